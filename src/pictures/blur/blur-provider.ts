import type { PixelBox } from '../../media/media.types.js';

/** What a blur service gave back: the blurred picture, or (a detector) the boxes to blur here. */
export type BlurOutcome =
  { kind: 'image'; image: Buffer; metadata: Record<string, unknown> | null } | { kind: 'boxes'; boxes: PixelBox[]; metadata: Record<string, unknown> | null };

/** The picture to blur: a local file when storage has one, else its bytes. */
export interface BlurInput {
  path?: string;
  buffer?: Buffer;
}

/** The service refused this picture (a 4xx other than 408/429): retrying will not help. */
export class BlurRefusedError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'BlurRefusedError';
  }
}

/** One interface for every way of blurring; `none` blurs nothing. */
export abstract class BlurProvider {
  abstract readonly name: string;
  /** Whether pictures must go through `blur` before they are stored for good. */
  abstract readonly enabled: boolean;
  abstract blur(input: BlurInput, signal: AbortSignal): Promise<BlurOutcome>;
}

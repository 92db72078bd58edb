import { BlurProvider, type BlurOutcome } from './blur-provider.js';

/** Blurring switched off: pictures are published as uploaded. */
export class NoneBlurProvider extends BlurProvider {
  readonly name = 'none';
  readonly enabled = false;

  blur(): Promise<BlurOutcome> {
    return Promise.reject(new Error('Blurring is switched off (BLUR_PROVIDER=none)'));
  }
}

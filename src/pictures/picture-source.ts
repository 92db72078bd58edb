import { Injectable, OnModuleInit, SetMetadata } from '@nestjs/common';
import { DiscoveryService, Reflector } from '@nestjs/core';
import type { EntityManager } from 'typeorm';

/** What brought a picture in: a kind of source (`upload-set`, `flight`…) and its batch id, if any. */
export interface PictureSourceRef {
  kind: string;
  id: string | null;
}

/** Why a picture was turned away after it was taken in (its file is deleted). */
export interface PictureRejection {
  pictureId: string;
  reason: 'capture_duplicate' | 'invalid_file';
  severity: 'info' | 'warning' | 'error';
  message: string;
  details: Record<string, unknown> | null;
}

/**
 * What a domain that brings pictures in implements (an upload set, a drone flight…) to hear
 * what becomes of them. Every method is optional.
 */
export interface PictureSource {
  /** The source kind this provider answers for (the `kind` of PictureSourceRef). */
  readonly pictureSourceKind: string;
  /** Some pictures of this batch finished processing (ready or broken) or were rejected. */
  onPicturesSettled?(sourceId: string | null): Promise<void>;
  /** Pictures of this batch were rejected after intake; runs in the rejecting transaction. */
  onPicturesRejected?(sourceId: string | null, rejections: PictureRejection[], manager: EntityManager): Promise<void>;
  /** Pictures of these batches are processed again (their sequences must be finalised again). */
  onPicturesReprocessed?(sourceIds: string[], manager?: EntityManager): Promise<void>;
}

export const PICTURE_SOURCE = Symbol('sightline:picture-source');

/** Marks a provider as a PictureSource; found when the application starts. */
export const PictureSourceHandler = (): ClassDecorator => SetMetadata(PICTURE_SOURCE, true);

/** The PictureSource providers of every loaded module, by kind. */
@Injectable()
export class PictureSources implements OnModuleInit {
  private byKind = new Map<string, PictureSource>();

  constructor(
    private readonly discovery: DiscoveryService,
    private readonly reflector: Reflector,
  ) {}

  onModuleInit(): void {
    for (const wrapper of this.discovery.getProviders()) {
      if (!wrapper.metatype || !wrapper.instance || !this.reflector.get(PICTURE_SOURCE, wrapper.metatype as () => unknown)) continue;
      const source = wrapper.instance as PictureSource;
      this.byKind.set(source.pictureSourceKind, source);
    }
  }

  of(kind: string): PictureSource | undefined {
    return this.byKind.get(kind);
  }

  async settled(ref: PictureSourceRef): Promise<void> {
    await this.of(ref.kind)?.onPicturesSettled?.(ref.id);
  }

  async rejected(ref: PictureSourceRef, rejections: PictureRejection[], manager: EntityManager): Promise<void> {
    if (rejections.length) await this.of(ref.kind)?.onPicturesRejected?.(ref.id, rejections, manager);
  }

  /** Tells each source which of its batches are processed again. */
  async reprocessed(refs: PictureSourceRef[], manager?: EntityManager): Promise<void> {
    const byKind = new Map<string, Set<string>>();
    for (const ref of refs) if (ref.id) byKind.set(ref.kind, (byKind.get(ref.kind) ?? new Set()).add(ref.id));
    for (const [kind, ids] of byKind) await this.of(kind)?.onPicturesReprocessed?.([...ids], manager);
  }
}

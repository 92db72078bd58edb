import { Injectable, OnModuleInit } from '@nestjs/common';
import { setTimeout as sleep } from 'node:timers/promises';
import { ManagementCommandsRegistry } from '../management-jobs/management-commands.registry.js';
import { PicturesService } from './pictures.service.js';

interface ReprocessArgs {
  collection_id?: string;
  upload_set_id?: string;
  picture_ids?: string[];
  all?: boolean;
  reblur?: boolean;
  wait?: boolean;
}

/** The pictures domain's management commands. */
@Injectable()
export class PicturesCommands implements OnModuleInit {
  constructor(
    private readonly commands: ManagementCommandsRegistry,
    private readonly pictures: PicturesService,
  ) {}

  onModuleInit(): void {
    this.commands.register({
      name: 'pictures.reprocess',
      description:
        'Process pictures again — derivatives, and blurring too with `reblur` — for a sequence (`collection_id`), an upload set, ' +
        'some pictures, or `all`. With `wait` (default) the job follows the pictures until they are ready or broken.',
      argsSchema: {
        type: 'object',
        properties: {
          collection_id: { type: 'string', format: 'uuid' },
          upload_set_id: { type: 'string', format: 'uuid' },
          picture_ids: { type: 'array', items: { type: 'string', format: 'uuid' }, minItems: 1, maxItems: 100000 },
          all: { type: 'boolean', const: true },
          reblur: { type: 'boolean', default: false },
          wait: { type: 'boolean', default: true },
        },
        // Exactly one target.
        oneOf: ['collection_id', 'upload_set_id', 'picture_ids', 'all'].map((key) => ({ properties: { [key]: true }, required: [key] })),
      },
      retryable: true,
      handler: (args: ReprocessArgs, ctx) => this.reprocess(args, ctx),
    });
  }

  private async reprocess(args: ReprocessArgs, ctx: { log(line: string): Promise<void>; progress(p: number): Promise<void>; signal: AbortSignal }) {
    const queued = await this.pictures.reprocess(
      { sequenceId: args.collection_id, source: args.upload_set_id ? { kind: 'upload-set', id: args.upload_set_id } : undefined, pictureIds: args.picture_ids, all: args.all },
      { reblur: args.reblur },
    );
    const ids = queued.map((q) => q.id);
    await ctx.log(`${ids.length} pictures queued for processing${args.reblur ? ' (blurring again)' : ''}`);
    if (!args.wait || ids.length === 0) {
      await ctx.progress(100);
      return { queued: ids.length };
    }
    // The pictures are processed by the `pictures` queue; this job follows them.
    let last = -1;
    for (;;) {
      const state = await this.pictures.processingState(ids);
      const done = ids.length - state.pending;
      const percent = Math.floor((done / ids.length) * 100);
      if (percent !== last) {
        await ctx.progress(percent);
        await ctx.log(`${done}/${ids.length} processed (${state.ready} ready, ${state.broken} broken)`);
        last = percent;
      }
      if (state.pending === 0) return { queued: ids.length, ready: state.ready, broken: state.broken };
      if (ctx.signal.aborted) return { queued: ids.length, processed: done, note: 'stopped following; the queued pictures are still processed' };
      await sleep(500, undefined, { signal: ctx.signal }).catch(() => undefined);
    }
  }
}

import { Injectable, Logger } from '@nestjs/common';
import { DiscoveryService, MetadataScanner, Reflector } from '@nestjs/core';
import { JobName } from './queue.constants.js';
import { JOB_RECONCILER, ON_JOB } from './queue.decorators.js';
import type { JobHandler, JobReconciler } from './queue.types.js';

/** Finds the @OnJob handlers and @Reconciler providers of every loaded module. */
@Injectable()
export class JobRegistryService {
  private readonly logger = new Logger(JobRegistryService.name);
  private handlers?: Map<JobName, JobHandler>;
  private reconcilerList?: JobReconciler[];

  constructor(
    private readonly discovery: DiscoveryService,
    private readonly scanner: MetadataScanner,
    private readonly reflector: Reflector,
  ) {}

  /** Every job name must have exactly one handler; throws a message listing what is wrong. */
  handlerMap(expected: readonly JobName[] = Object.values(JobName)): Map<JobName, JobHandler> {
    if (this.handlers) return this.handlers;
    const found = new Map<JobName, { handler: JobHandler; where: string }[]>();
    for (const wrapper of this.discovery.getProviders()) {
      const instance = wrapper.instance as Record<string, unknown> | undefined;
      if (!instance || typeof instance !== 'object' || !wrapper.isDependencyTreeStatic()) continue;
      const proto = Object.getPrototypeOf(instance) as object;
      for (const method of this.scanner.getAllMethodNames(proto)) {
        const fn = instance[method];
        if (typeof fn !== 'function') continue;
        const name = this.reflector.get<JobName | undefined>(ON_JOB, fn as () => unknown);
        if (!name) continue;
        const list = found.get(name) ?? [];
        list.push({ handler: (fn as JobHandler).bind(instance), where: `${instance.constructor.name}.${method}` });
        found.set(name, list);
      }
    }
    const problems: string[] = [];
    const known = new Set<string>(expected);
    for (const name of expected) {
      const list = found.get(name) ?? [];
      if (list.length === 0) problems.push(`${name}: no handler`);
      if (list.length > 1) problems.push(`${name}: ${list.length} handlers (${list.map((h) => h.where).join(', ')})`);
    }
    for (const name of found.keys()) if (!known.has(name)) problems.push(`${name}: handler for an unknown job`);
    if (problems.length) throw new Error(`Job handlers are inconsistent:\n  ${problems.join('\n  ')}`);
    this.handlers = new Map([...found.entries()].map(([name, list]) => [name, list[0]!.handler]));
    this.logger.log(`${this.handlers.size} job handlers registered`);
    return this.handlers;
  }

  reconcilers(): JobReconciler[] {
    if (this.reconcilerList) return this.reconcilerList;
    this.reconcilerList = this.discovery
      .getProviders()
      .filter((w) => w.metatype && w.instance && this.reflector.get(JOB_RECONCILER, w.metatype as () => unknown))
      .map((w) => w.instance as JobReconciler);
    return this.reconcilerList;
  }
}

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { DiscoveryService, MetadataScanner, Reflector } from '@nestjs/core';
import { JobRegistryService } from './job-registry.service.js';
import { JobName } from './queue.constants.js';
import { OnJob, Reconciler } from './queue.decorators.js';

// The specs use a one-job world; the real check runs over every JobName.
const ONLY_CLEANUP = [JobName.StorageCleanupTemp];

function registryOf(...instances: object[]): JobRegistryService {
  const discovery = {
    getProviders: () => instances.map((instance) => ({ instance, metatype: instance.constructor, isDependencyTreeStatic: () => true })),
  } as unknown as DiscoveryService;
  return new JobRegistryService(discovery, new MetadataScanner(), new Reflector());
}

class Cleaner {
  @OnJob(JobName.StorageCleanupTemp)
  async clean() {
    return 'cleaned';
  }
}

class SecondCleaner {
  @OnJob(JobName.StorageCleanupTemp)
  async alsoClean() {
    return 'again';
  }
}

class Stray {
  @OnJob('no.such-job' as JobName)
  async stray() {}
}

@Reconciler()
class Reconciling {
  async reconcile() {
    return 0;
  }
}

describe('JobRegistryService', () => {
  it('maps every job name to its one handler, bound to its provider', async () => {
    const map = registryOf(new Cleaner(), new Reconciling()).handlerMap(ONLY_CLEANUP);
    assert.equal(await map.get(JobName.StorageCleanupTemp)!({}, {} as never), 'cleaned');
  });

  it('refuses a job with two handlers, naming both', () => {
    assert.throws(() => registryOf(new Cleaner(), new SecondCleaner()).handlerMap(ONLY_CLEANUP), /storage\.cleanup-temp: 2 handlers \(Cleaner\.clean, SecondCleaner\.alsoClean\)/);
  });

  it('refuses a job without a handler', () => {
    assert.throws(() => registryOf(new Reconciling()).handlerMap(ONLY_CLEANUP), /storage\.cleanup-temp: no handler/);
  });

  it('refuses a handler for an unknown job', () => {
    assert.throws(() => registryOf(new Cleaner(), new Stray()).handlerMap(ONLY_CLEANUP), /no\.such-job: handler for an unknown job/);
  });

  it('finds the reconcilers', () => {
    const r = new Reconciling();
    assert.deepEqual(registryOf(new Cleaner(), r).reconcilers(), [r]);
  });
});

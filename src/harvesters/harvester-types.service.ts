import { Injectable, OnModuleInit } from '@nestjs/common';
import { DiscoveryService, Reflector } from '@nestjs/core';
import { HARVESTER_TYPE, type HarvesterType } from './harvester-type.js';

/** The harvester types of this build, found by their @HarvesterTypeProvider() mark. */
@Injectable()
export class HarvesterTypes implements OnModuleInit {
  private readonly types = new Map<string, HarvesterType>();

  constructor(
    private readonly discovery: DiscoveryService,
    private readonly reflector: Reflector,
  ) {}

  onModuleInit(): void {
    for (const wrapper of this.discovery.getProviders()) {
      if (!wrapper.metatype || !wrapper.instance || !this.reflector.get(HARVESTER_TYPE, wrapper.metatype as () => unknown)) continue;
      const type = wrapper.instance as HarvesterType;
      if (this.types.has(type.id)) throw new Error(`Two harvester types are called ${type.id}`);
      this.types.set(type.id, type);
    }
  }

  list(): HarvesterType[] {
    return [...this.types.values()].sort((a, b) => a.id.localeCompare(b.id));
  }

  get(id: string): HarvesterType | undefined {
    return this.types.get(id);
  }
}

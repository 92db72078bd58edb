import { Injectable, Logger, OnModuleDestroy } from '@nestjs/common';
import type { ThrottlerStorage } from '@nestjs/throttler';
import { Redis } from 'ioredis';
import { AppConfig } from '../config/app-config.js';
import { redisOptions } from '../queue/redis-connection.js';

interface ThrottlerStorageRecord {
  totalHits: number;
  timeToExpire: number;
  isBlocked: boolean;
  timeToBlockExpire: number;
}

// A fixed window per key: count the hit, start the window on the first, block for
// `blockDuration` once the count passes the limit. Atomic, so replicas share one count.
const INCREMENT = `
local hits = redis.call('INCR', KEYS[1])
if hits == 1 then redis.call('PEXPIRE', KEYS[1], ARGV[1]) end
local ttl = redis.call('PTTL', KEYS[1])
local blocked = redis.call('PTTL', KEYS[2])
if blocked <= 0 and hits > tonumber(ARGV[2]) then
  redis.call('SET', KEYS[2], '1', 'PX', ARGV[3])
  blocked = tonumber(ARGV[3])
end
return { hits, ttl, blocked }
`;

/**
 * @nestjs/throttler storage in Redis, so rate limits hold across API replicas. Keys live under
 * QUEUE_PREFIX. When Redis does not answer, requests are let through (and a warning logged):
 * rate limiting must not take the login down with it.
 */
@Injectable()
export class RedisThrottlerStorage implements ThrottlerStorage, OnModuleDestroy {
  private readonly logger = new Logger('RateLimit');
  private readonly redis: Redis;
  private readonly prefix: string;
  private lastWarning = 0;

  constructor(config: AppConfig) {
    this.prefix = `${config.QUEUE_PREFIX}:throttle`;
    this.redis = new Redis({ ...redisOptions(config.REDIS_URL), maxRetriesPerRequest: 1, lazyConnect: true, enableOfflineQueue: true });
    this.redis.on('error', () => undefined);
  }

  async increment(key: string, ttl: number, limit: number, blockDuration: number, throttlerName: string): Promise<ThrottlerStorageRecord> {
    const base = `${this.prefix}:${throttlerName}:${key}`;
    try {
      const [hits, ttlMs, blockedMs] = (await this.redis.eval(INCREMENT, 2, `${base}:hits`, `${base}:blocked`, String(ttl), String(limit), String(Math.max(blockDuration, 1)))) as [
        number,
        number,
        number,
      ];
      const isBlocked = blockedMs > 0;
      return { totalHits: hits, timeToExpire: Math.max(0, Math.ceil(ttlMs / 1000)), isBlocked, timeToBlockExpire: isBlocked ? Math.ceil(blockedMs / 1000) : 0 };
    } catch (error) {
      if (Date.now() - this.lastWarning > 60_000) {
        this.lastWarning = Date.now();
        this.logger.warn(`rate limiting is off while Redis does not answer: ${(error as Error).message}`);
      }
      return { totalHits: 0, timeToExpire: 0, isBlocked: false, timeToBlockExpire: 0 };
    }
  }

  async onModuleDestroy(): Promise<void> {
    if (this.redis.status === 'wait' || this.redis.status === 'end') return this.redis.disconnect();
    await this.redis.quit().catch(() => this.redis.disconnect());
  }
}

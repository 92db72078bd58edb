import { Injectable } from '@nestjs/common';
import { InjectRepository } from '@nestjs/typeorm';
import { jwtVerify, SignJWT } from 'jose';
import { Repository } from 'typeorm';
import { AppConfig, secretKey } from '../config/app-config.js';
import { ApiToken } from './api-token.entity.js';
import type { AuthUser } from './auth.types.js';
import { User } from './user.entity.js';

const ISSUER = 'sightline';
/** Revocation takes effect within this long (a token's row is re-read at most this often). */
const CACHE_MS = 1000;

@Injectable()
export class TokensService {
  private readonly key: Uint8Array;
  private readonly cache = new Map<string, { at: number; user: AuthUser | null }>();

  constructor(
    config: AppConfig,
    @InjectRepository(ApiToken) private readonly tokens: Repository<ApiToken>,
    @InjectRepository(User) private readonly users: Repository<User>,
  ) {
    this.key = new TextEncoder().encode(secretKey(config));
  }

  /** Creates a token row and its signed JWT (`userId` null = unclaimed). */
  async create(userId: string | null, description = '', expiresAt: Date | null = null): Promise<{ token: ApiToken; jwt: string }> {
    const token = await this.tokens.save(this.tokens.create({ userId, description, expiresAt }));
    return { token, jwt: await this.sign(token) };
  }

  /** The JWT of an existing token (the same every time: it depends only on the row). */
  sign(token: ApiToken): Promise<string> {
    const jwt = new SignJWT({ typ: 'api-token' })
      .setProtectedHeader({ alg: 'HS256', typ: 'JWT' })
      .setSubject(token.id)
      .setIssuer(ISSUER)
      .setIssuedAt(Math.floor(token.createdAt.getTime() / 1000));
    if (token.expiresAt) jwt.setExpirationTime(Math.floor(token.expiresAt.getTime() / 1000));
    return jwt.sign(this.key);
  }

  /** Who a Sightline JWT stands for; null when invalid, expired, revoked or unclaimed. */
  async authenticate(jwt: string): Promise<AuthUser | null> {
    let tokenId: string;
    try {
      const { payload } = await jwtVerify(jwt, this.key, { issuer: ISSUER, algorithms: ['HS256'] });
      if (typeof payload.sub !== 'string') return null;
      tokenId = payload.sub;
    } catch {
      return null;
    }
    const hit = this.cache.get(tokenId);
    if (hit && Date.now() - hit.at < CACHE_MS) return hit.user;
    const token = await this.tokens.findOne({ where: { id: tokenId }, relations: { user: true } }).catch(() => null);
    const valid = token?.user && (!token.expiresAt || token.expiresAt.getTime() > Date.now());
    const user: AuthUser | null = valid
      ? { id: token.user!.id, name: token.user!.name, role: token.user!.role, email: token.user!.email, via: 'api-token' }
      : null;
    this.cache.set(tokenId, { at: Date.now(), user });
    if (this.cache.size > 10_000) this.cache.clear();
    return user;
  }

  /**
   * Deletes expired tokens, and unclaimed ones (never bound to a user) created more than
   * `unclaimedMaxAgeSeconds` ago. With `dryRun`, only counts them.
   */
  async purgeExpired(options: { unclaimedMaxAgeSeconds: number; dryRun?: boolean }): Promise<{ expired: number; unclaimed: number }> {
    const expired = 'expires_at IS NOT NULL AND expires_at <= now()';
    const unclaimed = `user_id IS NULL AND created_at < now() - make_interval(secs => :age) AND NOT (${expired})`;
    const params = { age: options.unclaimedMaxAgeSeconds };
    if (options.dryRun) {
      return {
        expired: await this.tokens.createQueryBuilder().where(expired).getCount(),
        unclaimed: await this.tokens.createQueryBuilder().where(unclaimed, params).getCount(),
      };
    }
    const deletedExpired = await this.tokens.createQueryBuilder().delete().where(expired).execute();
    const deletedUnclaimed = await this.tokens.createQueryBuilder().delete().where(unclaimed, params).execute();
    this.cache.clear();
    return { expired: deletedExpired.affected ?? 0, unclaimed: deletedUnclaimed.affected ?? 0 };
  }
}

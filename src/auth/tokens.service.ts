import { Injectable, NotFoundException, OnModuleDestroy } from '@nestjs/common';
import { InjectRepository } from '@nestjs/typeorm';
import { SignJWT } from 'jose';
import { IsNull, LessThan, MoreThan, Repository } from 'typeorm';
import { AppConfig, secretKey } from '../config/app-config.js';
import { ApiToken } from './api-token.entity.js';
import type { AuthUser } from './auth.types.js';

/** The `iss` of Sightline API tokens. */
export const API_TOKEN_ISSUER = 'sightline';
/** Revocation takes effect within this long (a token's row is re-read at most this often). */
const CACHE_MS = 1000;
/** An unclaimed token (the command-line flow) must be claimed within this long, or it is gone. */
export const UNCLAIMED_TOKEN_TTL_MS = 10 * 60 * 1000;
/** `last_used_at` is written at most this often per token. */
const LAST_USED_RESOLUTION_MS = 60 * 1000;

export type TokenCheck = { user: AuthUser } | { user?: undefined; reason: string };

/**
 * Sightline API tokens: a row per token, a JWT (HS256, SECRET_KEY) carrying only the row id.
 * Deleting the row revokes the token. Signature and expiry are checked by the Bearer strategy;
 * this service answers who a token id stands for.
 */
@Injectable()
export class TokensService implements OnModuleDestroy {
  private readonly key: Uint8Array;
  private readonly cache = new Map<string, { at: number; check: TokenCheck }>();
  /** `last_used_at` writes in flight (not awaited by requests; awaited at shutdown). */
  private readonly pendingTouches = new Set<Promise<unknown>>();

  constructor(
    config: AppConfig,
    @InjectRepository(ApiToken) private readonly tokens: Repository<ApiToken>,
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
      .setIssuer(API_TOKEN_ISSUER)
      .setIssuedAt(Math.floor(token.createdAt.getTime() / 1000));
    if (token.expiresAt) jwt.setExpirationTime(Math.floor(token.expiresAt.getTime() / 1000));
    return jwt.sign(this.key);
  }

  /** Who a (signature-checked) token id stands for, or why it is refused. Cached for one second. */
  async check(tokenId: string): Promise<TokenCheck> {
    const hit = this.cache.get(tokenId);
    if (hit && Date.now() - hit.at < CACHE_MS) return hit.check;
    const token = await this.tokens.findOne({ where: { id: tokenId }, relations: { user: true } });
    let check: TokenCheck;
    if (!token) check = { reason: 'the token was revoked' };
    else if (!token.user) check = { reason: 'the token has not been claimed yet: open its claim link while logged in' };
    else if (token.expiresAt && token.expiresAt.getTime() <= Date.now()) check = { reason: 'the token expired' };
    else {
      const u = token.user;
      check = { user: { id: u.id, name: u.name, role: u.role, email: u.email, via: 'api-token' } };
      this.touch(token);
    }
    this.cache.set(tokenId, { at: Date.now(), check });
    if (this.cache.size > 10_000) this.cache.clear();
    return check;
  }

  private touch(token: ApiToken): void {
    if (token.lastUsedAt && Date.now() - token.lastUsedAt.getTime() < LAST_USED_RESOLUTION_MS) return;
    const write = this.tokens.update({ id: token.id }, { lastUsedAt: new Date() }).catch(() => undefined);
    this.pendingTouches.add(write);
    void write.finally(() => this.pendingTouches.delete(write));
  }

  async onModuleDestroy(): Promise<void> {
    await Promise.allSettled([...this.pendingTouches]);
  }

  /** The tokens of a user, newest first. */
  list(userId: string): Promise<ApiToken[]> {
    return this.tokens.find({ where: { userId }, order: { createdAt: 'DESC', id: 'ASC' } });
  }

  /** One of the user's tokens, or 404. */
  async get(userId: string, id: string): Promise<ApiToken> {
    const token = await this.tokens.findOneBy({ id, userId });
    if (!token) throw new NotFoundException(`You have no token ${id}`);
    return token;
  }

  /** Revokes one of the user's tokens: at once in this process, within a second everywhere. */
  async revoke(userId: string, id: string): Promise<void> {
    const result = await this.tokens.delete({ id, userId });
    if (!result.affected) throw new NotFoundException(`You have no token ${id}`);
    this.cache.delete(id);
  }

  /** A new unclaimed token for the command-line flow; expired unclaimed tokens are pruned on the way. */
  async generateUnclaimed(description: string): Promise<{ token: ApiToken; jwt: string; claimBefore: Date }> {
    await this.tokens.delete({ userId: IsNull(), createdAt: LessThan(new Date(Date.now() - UNCLAIMED_TOKEN_TTL_MS)) });
    const created = await this.create(null, description);
    return { ...created, claimBefore: new Date(created.token.createdAt.getTime() + UNCLAIMED_TOKEN_TTL_MS) };
  }

  /** An unclaimed token that may still be claimed, or null. */
  findClaimable(id: string): Promise<ApiToken | null> {
    return this.tokens.findOneBy({ id, userId: IsNull(), createdAt: MoreThan(new Date(Date.now() - UNCLAIMED_TOKEN_TTL_MS)) });
  }

  /** A token of `userId` (e.g. one just claimed), or null. */
  findOwned(userId: string, id: string): Promise<ApiToken | null> {
    return this.tokens.findOneBy({ id, userId });
  }

  /**
   * Gives an unclaimed token to `userId` (one statement: two people claiming at once cannot both
   * win). Returns the token, or null when it is unknown, expired or already claimed.
   */
  async claim(id: string, userId: string): Promise<ApiToken | null> {
    const result = await this.tokens
      .createQueryBuilder()
      .update(ApiToken)
      .set({ userId })
      .where('id = :id AND user_id IS NULL AND created_at > :after', { id, after: new Date(Date.now() - UNCLAIMED_TOKEN_TTL_MS) })
      .execute();
    if (!result.affected) return null;
    this.cache.delete(id);
    return this.tokens.findOneBy({ id });
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

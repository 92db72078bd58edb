import { BadRequestException, Injectable, Logger, NotFoundException } from '@nestjs/common';
import type { Request, Response } from 'express';
import { AppConfig } from '../config/app-config.js';
import type { ApiToken } from './api-token.entity.js';
import type { AuthUser } from './auth.types.js';
import type { SessionStateDto } from './auth.dto.js';
import { OidcClientService } from './oidc-client.service.js';
import { publicOrigin } from './oidc-settings.js';
import { DEFAULT_NEXT, localNextPath } from './next-path.js';
import { SESSION_COOKIE } from './session.middleware.js';
import type { GeneratedTokenDto } from './tokens.dto.js';
import { TokensService, UNCLAIMED_TOKEN_TTL_MS } from './tokens.service.js';
import { toMeDto } from './users.dto.js';
import { UsersService } from './users.service.js';

/** A session that only carries a login in progress lives this long. */
const PENDING_LOGIN_MS = 15 * 60 * 1000;

const promisify = (fn: (cb: (err?: unknown) => void) => void) =>
  new Promise<void>((resolve, reject) => fn((err) => (err ? reject(err instanceof Error ? err : new Error(String(err))) : resolve())));

/** Browser logins need the session; requests with a Bearer token have none. */
function requireSession(req: Request): void {
  if (!req.session) throw new BadRequestException('Log in from a browser: a request with an Authorization header has no session');
}

export function loginUrl(next: string = DEFAULT_NEXT): string {
  return `/api/auth/login?next=${encodeURIComponent(next)}`;
}

export function claimPath(tokenId: string): string {
  return `/api/auth/tokens/${tokenId}/claim`;
}

/** The browser login (sessions) and the command-line token flow. */
@Injectable()
export class AuthService {
  private readonly logger = new Logger('Auth');

  constructor(
    private readonly config: AppConfig,
    private readonly oidc: OidcClientService,
    private readonly users: UsersService,
    private readonly tokens: TokensService,
  ) {}

  /** Checks `next` (400 when it is not a local path) and sends the browser to the provider. */
  async startLogin(req: Request, res: Response, rawNext: string | undefined): Promise<void> {
    const next = localNextPath(rawNext);
    requireSession(req);
    // Until the provider sends the person back, the session only holds the login's state.
    if (!req.session.userId) req.session.cookie.maxAge = PENDING_LOGIN_MS;
    await this.oidc.startLogin(req, res, next);
  }

  /**
   * The provider sent the person back: check state, PKCE, nonce and ID token, create or update
   * the user, and give them a fresh session (a new id: no session fixation). Returns `next`.
   */
  async finishLogin(req: Request, res: Response): Promise<string> {
    requireSession(req);
    const { identity, idToken, next } = await this.oidc.finishLogin(req, res);
    const user = await this.users.upsertFromLogin(identity);
    await promisify((cb) => req.session.regenerate(cb));
    req.session.userId = user.id;
    req.session.idToken = idToken;
    req.session.loginAt = new Date().toISOString();
    await promisify((cb) => req.session.save(cb));
    this.logger.log(`${user.name} (${user.role}) logged in through ${identity.issuer}`);
    return localNextPath(next);
  }

  /** Ends the session; returns where to send the browser (the provider's logout when it has one). */
  async logout(req: Request, res: Response): Promise<string> {
    const hadLogin = Boolean(req.session?.userId);
    const idToken = req.session?.idToken;
    if (req.session) await promisify((cb) => req.session.destroy(cb));
    res.clearCookie(SESSION_COOKIE, { path: '/', httpOnly: true, sameSite: 'lax' });
    const providerLogout = hadLogin ? await this.oidc.endSessionUrl(idToken) : undefined;
    return providerLogout ?? DEFAULT_NEXT;
  }

  async sessionState(caller: AuthUser | undefined): Promise<SessionStateDto> {
    const user = caller ? await this.users.findById(caller.id) : null;
    return {
      authenticated: Boolean(user),
      ...(user && caller ? { user: toMeDto(user, caller.via) } : {}),
      login_url: loginUrl(),
      logout_url: '/api/auth/logout',
    };
  }

  /** The command-line flow, step 1: an unclaimed token and the link a person opens to claim it. */
  async generateToken(description: string | undefined): Promise<GeneratedTokenDto> {
    const { token, jwt, claimBefore } = await this.tokens.generateUnclaimed(description ?? '');
    const claimUrl = `${publicOrigin(this.config)}${claimPath(token.id)}`;
    return {
      id: token.id,
      description: token.description,
      jwt,
      claim_before: claimBefore.toISOString(),
      claim_url: claimUrl,
      links: [{ rel: 'claim', href: claimUrl, type: 'text/html', title: 'Open in a browser, logged in, to claim the token' }],
    };
  }

  /** The token a claim page is about: claimable, or already the caller's. 404 otherwise. */
  async claimable(caller: AuthUser, id: string): Promise<{ token: ApiToken; alreadyYours: boolean; claimBefore: Date | null }> {
    const owned = await this.tokens.findOwned(caller.id, id);
    if (owned) return { token: owned, alreadyYours: true, claimBefore: null };
    const token = await this.tokens.findClaimable(id);
    if (!token) throw new NotFoundException(`No token ${id} waits to be claimed (unknown, already claimed, or expired)`);
    return { token, alreadyYours: false, claimBefore: new Date(token.createdAt.getTime() + UNCLAIMED_TOKEN_TTL_MS) };
  }

  /** The command-line flow, step 2: the logged-in person takes the token. */
  async claim(caller: AuthUser, id: string): Promise<ApiToken> {
    const claimed = await this.tokens.claim(id, caller.id);
    if (claimed) {
      this.logger.log(`${caller.name} claimed token ${id}`);
      return claimed;
    }
    const owned = await this.tokens.findOwned(caller.id, id);
    if (owned) return owned;
    throw new NotFoundException(`No token ${id} waits to be claimed (unknown, already claimed, or expired)`);
  }
}

import { Injectable, Logger } from '@nestjs/common';
import type { Request, Response } from 'express';
import { decodeJwt, decodeProtectedHeader, type JWTPayload } from 'jose';
import { createSecretKey } from 'node:crypto';
import passport from 'passport';
import { ExtractJwt, Strategy as JwtStrategy } from 'passport-jwt';
import { AppConfig, secretKey } from '../config/app-config.js';
import type { AuthUser } from './auth.types.js';
import { identityFromClaims } from './identity.js';
import { OidcClientService } from './oidc-client.service.js';
import { API_TOKEN_ISSUER, TokensService } from './tokens.service.js';
import { toAuthUser, UsersService } from './users.service.js';

/**
 * An access token says so: header `typ: at+jwt` (RFC 9068, oidc-provider), `typ: Bearer` in the
 * payload (Keycloak), or at least a scope (`scope` / `scp`, other providers). ID tokens have none.
 */
function looksLikeAccessToken(req: Request, payload: JWTPayload): boolean {
  const raw = ExtractJwt.fromAuthHeaderAsBearerToken()(req) ?? '';
  let typ: unknown;
  try {
    typ = decodeProtectedHeader(raw).typ;
  } catch {
    return false;
  }
  if (typeof typ === 'string' && /^(application\/)?at\+jwt$/i.test(typ)) return true;
  if (payload.typ === 'ID' || payload.nonce !== undefined) return false;
  return payload.typ === 'Bearer' || payload.scope !== undefined || payload.scp !== undefined;
}

export type BearerResult = { user: AuthUser } | { user?: undefined; reason: string };

/** Users made or updated from provider access tokens are re-read at most this often. */
const PROVIDER_USER_CACHE_MS = 1000;

/**
 * Bearer authentication with passport-jwt, two strategies:
 * - `api-token`: Sightline API tokens, HS256 with SECRET_KEY, `iss` sightline, `sub` the token
 *   row (which must still exist: revocation is immediate, at most one second of caching);
 * - `provider-token`: access tokens of the identity provider, RS256/ES256 verified against its
 *   JWKS, issuer and audience (OIDC_CLIENT_ID) checked; the user is created or updated from them.
 * The unverified `iss` only picks the strategy; each strategy verifies everything itself.
 */
@Injectable()
export class BearerAuthService {
  private readonly logger = new Logger('BearerAuth');
  private readonly passport = new passport.Passport();
  private readonly providerUsers = new Map<string, { at: number; user: AuthUser }>();

  constructor(
    config: AppConfig,
    private readonly tokens: TokensService,
    private readonly users: UsersService,
    private readonly oidc: OidcClientService,
  ) {
    const jwtFromRequest = ExtractJwt.fromAuthHeaderAsBearerToken();
    // A key object, made once: given a string, jsonwebtoken tries it as a PEM public key first and
    // builds a secret key from it only after that fails, on every request (~1 ms each).
    const apiTokenKey = createSecretKey(Buffer.from(secretKey(config)));
    this.passport.use(
      'api-token',
      new JwtStrategy({ jwtFromRequest, secretOrKey: apiTokenKey as unknown as string, issuer: API_TOKEN_ISSUER, algorithms: ['HS256'] }, (payload: JWTPayload, done) => {
        if (payload.typ !== 'api-token' || typeof payload.sub !== 'string') return done(null, false, { message: 'not a Sightline API token' });
        this.tokens.check(payload.sub).then(
          (check) => (check.user ? done(null, check.user) : done(null, false, { message: check.reason })),
          (error: Error) => done(error),
        );
      }),
    );
    this.passport.use(
      'provider-token',
      new JwtStrategy(
        {
          jwtFromRequest,
          secretOrKeyProvider: (_req, rawJwt: string, done) => {
            this.oidc.verificationKey(rawJwt).then(
              (key) => done(null, key as unknown as string),
              (error: Error) => done(error),
            );
          },
          issuer: [oidc.issuer, `${oidc.issuer}/`],
          audience: config.OIDC_CLIENT_ID,
          algorithms: ['RS256', 'ES256'],
          passReqToCallback: true,
        },
        (req: Request, payload: JWTPayload, done: (error: Error | null, user?: AuthUser | false, info?: { message: string }) => void) => {
          // ID tokens share issuer and audience with access tokens but are not meant to call APIs.
          if (!looksLikeAccessToken(req, payload)) return done(null, false, { message: 'this is not an access token (an ID token?)' });
          this.providerUser(payload).then(
            (user) => done(null, user),
            (error: Error) => done(null, false, { message: error.message }),
          );
        },
      ),
    );
  }

  /** Who the Bearer token of `req` stands for, or why it is refused. */
  async authenticate(req: Request, res: Response): Promise<BearerResult> {
    const raw = ExtractJwt.fromAuthHeaderAsBearerToken()(req);
    if (!raw) return { reason: 'no token' };
    let claims: JWTPayload;
    try {
      claims = decodeJwt(raw);
    } catch {
      return { reason: 'not a JWT' };
    }
    const strategy = claims.iss === API_TOKEN_ISSUER ? 'api-token' : this.oidc.isIssuedByProvider(claims) ? 'provider-token' : undefined;
    if (!strategy) return { reason: `tokens from issuer ${JSON.stringify(claims.iss ?? null)} are not accepted` };
    return new Promise<BearerResult>((resolve, reject) => {
      this.passport.authenticate(strategy, { session: false }, (error: Error | null, user: AuthUser | false, info?: { message?: string } | Error) => {
        if (error) return reject(error);
        if (user) return resolve({ user });
        resolve({ reason: info?.message ?? 'invalid token' });
      })(req, res, (error?: unknown) => reject(error as Error));
    });
  }

  private async providerUser(payload: JWTPayload): Promise<AuthUser> {
    const key = `${payload.iss}|${payload.sub}`;
    const hit = this.providerUsers.get(key);
    if (hit && Date.now() - hit.at < PROVIDER_USER_CACHE_MS) return hit.user;
    const identity = identityFromClaims(this.oidc.issuer, payload as Record<string, unknown>);
    const user = toAuthUser(await this.users.upsertFromLogin(identity), 'oidc-token');
    this.providerUsers.set(key, { at: Date.now(), user });
    if (this.providerUsers.size > 10_000) this.providerUsers.clear();
    this.logger.debug(`provider access token of ${user.name}`);
    return user;
  }
}

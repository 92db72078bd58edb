import { createHash, KeyObject, randomBytes, timingSafeEqual } from 'node:crypto';
import { Injectable, Logger, ServiceUnavailableException, UnauthorizedException } from '@nestjs/common';
import type { Request, Response } from 'express';
import { createRemoteJWKSet, decodeProtectedHeader, jwtVerify, type JWTPayload } from 'jose';
import passport from 'passport';
import OpenIDConnectStrategy from 'passport-openidconnect';
import { AppConfig } from '../config/app-config.js';
import { type Identity, identityFromClaims } from './identity.js';
import { loginRedirectUri, oidcClientSecret, oidcIssuer, postLogoutRedirectUri } from './oidc-settings.js';

interface ProviderMetadata {
  issuer: string;
  authorization_endpoint: string;
  token_endpoint: string;
  userinfo_endpoint?: string;
  jwks_uri: string;
  end_session_endpoint?: string;
}

interface Discovered {
  metadata: ProviderMetadata;
  jwks: ReturnType<typeof createRemoteJWKSet>;
}

/** What the login flow remembers in the (server-side) session between login and redirect. */
interface LoginState {
  next: string;
  codeVerifier: string;
}

export interface LoginResult {
  identity: Identity;
  idToken: string;
  next: string;
}

/** The login failed for a reason the person can act on (cancelled, expired, replayed): 401. */
export class LoginFailedError extends UnauthorizedException {
  constructor(readonly reason: string) {
    super(`Login failed: ${reason}`);
  }
}

const STATE_KEY = 'sightline:oidc';
const STRATEGY = 'oidc';

/**
 * passport-openidconnect's state store, keeping state, nonce and the PKCE verifier in the
 * server-side session. When the provider redirects back, it hands the verifier of that
 * authorization code to `remember`, for the token request.
 */
class SessionStateStore {
  constructor(private readonly remember: (code: string, verifier: string) => void) {}

  store(req: Request, ctx: { nonce?: string; maxAge?: number; issued?: Date }, appState: LoginState, _meta: unknown, cb: (err: Error | null, handle?: string) => void): void {
    const handle = randomBytes(24).toString('base64url');
    (req.session as unknown as Record<string, unknown>)[STATE_KEY] = { handle, nonce: ctx.nonce, maxAge: ctx.maxAge, issued: ctx.issued, appState };
    cb(null, handle);
  }

  verify(req: Request, handle: unknown, cb: (err: Error | null, ctx?: false | object, state?: unknown) => void): void {
    const session = req.session as unknown as Record<string, unknown> | undefined;
    const saved = session?.[STATE_KEY] as { handle: string; nonce?: string; maxAge?: number; issued?: string; appState: LoginState } | undefined;
    if (session) delete session[STATE_KEY];
    const same = typeof handle === 'string' && saved && handle.length === saved.handle.length && timingSafeEqual(Buffer.from(handle), Buffer.from(saved.handle));
    if (!saved || !same) return cb(null, false, { message: 'The login state is missing, expired or does not match: start again from /api/auth/login' });
    if (typeof req.query.code === 'string') this.remember(req.query.code, saved.appState.codeVerifier);
    cb(null, { nonce: saved.nonce, maxAge: saved.maxAge, issued: saved.issued ? new Date(saved.issued) : undefined }, saved.appState);
  }
}

/**
 * Sightline as an OpenID Connect relying party: discovery, login with passport-openidconnect
 * (authorization code, PKCE S256, state and nonce kept in the server-side session, ID token
 * signature checked against the provider's JWKS), RP-initiated logout, and the provider's keys
 * for verifying its access tokens. Discovery is lazy (first use) and retried after a failure, so
 * the API starts even when the provider is down — and the embedded provider, served by this
 * very process, is only reachable once it listens.
 */
@Injectable()
export class OidcClientService {
  private readonly logger = new Logger('OidcClient');
  readonly issuer: string;
  private discovered?: Promise<Discovered>;
  private readonly passport = new passport.Passport();
  /** PKCE verifiers by authorization code, between the state check and the token request. */
  private readonly verifiers = new Map<string, { verifier: string; at: number }>();

  constructor(private readonly config: AppConfig) {
    this.issuer = oidcIssuer(config);
  }

  /** The provider's metadata and key set, fetched once (and again after a failure). */
  discover(): Promise<Discovered> {
    this.discovered ??= this.fetchMetadata().catch((error: Error) => {
      this.discovered = undefined;
      this.logger.warn(`OpenID Connect discovery of ${this.issuer} failed: ${error.message}`);
      throw new ServiceUnavailableException(`The identity provider ${this.issuer} cannot be reached: ${error.message}`);
    });
    return this.discovered;
  }

  private async fetchMetadata(): Promise<Discovered> {
    const res = await fetch(`${this.issuer}/.well-known/openid-configuration`, { signal: AbortSignal.timeout(5000), headers: { accept: 'application/json' } });
    if (!res.ok) throw new Error(`discovery answered ${res.status}`);
    const metadata = (await res.json()) as ProviderMetadata;
    if (metadata.issuer?.replace(/\/+$/, '') !== this.issuer) throw new Error(`discovery names issuer ${metadata.issuer}, expected ${this.issuer}`);
    for (const field of ['authorization_endpoint', 'token_endpoint', 'jwks_uri'] as const) {
      if (typeof metadata[field] !== 'string') throw new Error(`discovery has no ${field}`);
    }
    const jwks = createRemoteJWKSet(new URL(metadata.jwks_uri), { timeoutDuration: 5000 });
    this.passport.use(STRATEGY, this.createStrategy(metadata, jwks));
    return { metadata, jwks };
  }

  private createStrategy(metadata: ProviderMetadata, jwks: Discovered['jwks']): OpenIDConnectStrategy {
    const clientId = this.config.OIDC_CLIENT_ID;
    const store = new SessionStateStore((code, verifier) => {
      const now = Date.now();
      for (const [k, v] of this.verifiers) if (now - v.at > 10 * 60_000) this.verifiers.delete(k);
      this.verifiers.set(code, { verifier, at: now });
    });
    const strategy = new PkceOpenIdConnectStrategy(
      {
        issuer: metadata.issuer,
        authorizationURL: metadata.authorization_endpoint,
        tokenURL: metadata.token_endpoint,
        userInfoURL: metadata.userinfo_endpoint ?? '',
        clientID: clientId,
        clientSecret: oidcClientSecret(this.config) ?? '',
        callbackURL: loginRedirectUri(this.config),
        scope: ['profile', 'email'],
        nonce: 'true',
        store: store as unknown as OpenIDConnectStrategy.StrategyOptions['store'],
        skipUserProfile: (_req: unknown, _claims: unknown) => !metadata.userinfo_endpoint,
      } as unknown as OpenIDConnectStrategy.StrategyOptions,
      // Nine parameters: passport-openidconnect then passes the userinfo and ID token profiles apart.
      ((
        issuer: string,
        uiProfile: { _json?: Record<string, unknown> } | undefined,
        _idProfile: unknown,
        _context: unknown,
        idToken: string,
        _accessToken: string,
        _refreshToken: string,
        _params: unknown,
        done: (err: Error | null, user?: unknown, info?: unknown) => void,
      ) => {
        jwtVerify(idToken, jwks, { issuer, audience: clientId })
          .then(({ payload }) => {
            const userinfo = uiProfile?._json ?? {};
            if (userinfo.sub !== undefined && userinfo.sub !== payload.sub) throw new Error('userinfo is about another subject than the ID token');
            done(null, { identity: identityFromClaims(this.issuer, { ...payload, ...userinfo }), idToken });
          })
          .catch((error: Error) => done(null, false, { message: `The ID token was refused: ${error.message}` }));
      }) as unknown as OpenIDConnectStrategy.VerifyFunction,
    );
    // passport-openidconnect sends no PKCE verifier: add the one kept for this code.
    const oauth2 = (strategy as unknown as { _oauth2: { getOAuthAccessToken: (code: string, params: Record<string, string>, cb: unknown) => void } })._oauth2;
    const getToken = oauth2.getOAuthAccessToken.bind(oauth2);
    oauth2.getOAuthAccessToken = (code, params, cb) => {
      const pending = this.verifiers.get(code);
      this.verifiers.delete(code);
      getToken(code, pending ? { ...params, code_verifier: pending.verifier } : params, cb);
    };
    return strategy;
  }

  /** Sends the browser to the provider; `next` (already checked) is where it lands afterwards. */
  async startLogin(req: Request, res: Response, next: string): Promise<void> {
    await this.discover();
    const codeVerifier = randomBytes(32).toString('base64url');
    const codeChallenge = createHash('sha256').update(codeVerifier).digest('base64url');
    const state: LoginState = { next, codeVerifier };
    await new Promise<void>((resolve, reject) => {
      res.once('finish', () => resolve());
      this.passport.authenticate(STRATEGY, { session: false, state, codeChallenge } as object, (error: Error | null) => {
        // Only called on a failure: a successful start redirects.
        reject(error ?? new LoginFailedError('the login could not start'));
      })(req, res, (error?: unknown) => (error ? reject(error as Error) : resolve()));
    });
  }

  /** Completes the login when the provider redirects back; throws LoginFailedError on refusal. */
  async finishLogin(req: Request, res: Response): Promise<LoginResult> {
    await this.discover();
    return new Promise<LoginResult>((resolve, reject) => {
      this.passport.authenticate(
        STRATEGY,
        { session: false },
        (error: Error | null, user: { identity: Identity; idToken: string } | false, info?: { message?: string; state?: LoginState }) => {
          if (error) {
            const oauthError = error as Error & { code?: string };
            // The provider refused (an OAuth error code), or could not be reached to finish.
            if (oauthError.code || error.name === 'AuthorizationError' || error.name === 'TokenError')
              return reject(new LoginFailedError(`${oauthError.code ?? 'error'}: ${error.message}`));
            if (error.name === 'InternalOAuthError') return reject(new ServiceUnavailableException(`The identity provider could not complete the login: ${error.message}`));
            return reject(error);
          }
          if (!user) return reject(new LoginFailedError(info?.message ?? 'the identity provider did not authenticate you'));
          resolve({ ...user, next: info?.state?.next ?? '/api/docs' });
        },
      )(req, res, (error?: unknown) => reject(error as Error));
    });
  }

  /** The provider's RP-initiated logout URL, when it offers one. */
  async endSessionUrl(idToken: string | undefined): Promise<string | undefined> {
    let metadata: ProviderMetadata;
    try {
      ({ metadata } = await this.discover());
    } catch {
      return undefined;
    }
    if (!metadata.end_session_endpoint) return undefined;
    const url = new URL(metadata.end_session_endpoint);
    if (idToken) url.searchParams.set('id_token_hint', idToken);
    url.searchParams.set('client_id', this.config.OIDC_CLIENT_ID);
    url.searchParams.set('post_logout_redirect_uri', postLogoutRedirectUri(this.config));
    return url.toString();
  }

  /** The provider's public key that signed `jwt` (for passport-jwt, which wants a KeyObject). */
  async verificationKey(jwt: string): Promise<KeyObject> {
    const { jwks } = await this.discover();
    const header = decodeProtectedHeader(jwt);
    const key = await jwks(header);
    return KeyObject.from(key as unknown as Parameters<typeof KeyObject.from>[0]);
  }

  /** Whether an (unverified) token claims to come from the trusted provider. */
  isIssuedByProvider(payload: JWTPayload): boolean {
    return typeof payload.iss === 'string' && payload.iss.replace(/\/+$/, '') === this.issuer;
  }
}

/** passport-openidconnect with the PKCE challenge (RFC 7636) in the authorization request. */
class PkceOpenIdConnectStrategy extends OpenIDConnectStrategy {
  override authorizationParams(options: { codeChallenge?: string }): object {
    return options.codeChallenge ? { code_challenge: options.codeChallenge, code_challenge_method: 'S256' } : {};
  }
}

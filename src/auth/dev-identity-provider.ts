import { generateKeyPairSync } from 'node:crypto';
import { Logger } from '@nestjs/common';
import express, { type NextFunction, type Request, type Response } from 'express';
import type { InteractionDetails, KoaContextWithOIDC, Provider } from 'oidc-provider';
import type { AppConfig } from '../config/app-config.js';
import type { ProcessRole } from '../queue/process-role.js';
import { devLoginPage, devLogoutPage, errorPage, messagePage } from './auth-pages.js';
import { type DevUser, parseDevUsers, passwordMatches } from './dev-users.js';
import {
  apiResourceIndicator,
  derivedSecret,
  EMBEDDED_PROVIDER_PATH,
  loginRedirectUri,
  oidcClientSecret,
  oidcIssuer,
  postLogoutRedirectUri,
  usesEmbeddedProvider,
} from './oidc-settings.js';

/** Lifetime of access tokens the embedded provider issues to scripts, in seconds. */
const ACCESS_TOKEN_TTL = 3600;

type OidcProviderModule = typeof import('oidc-provider');

/**
 * The embedded OpenID provider for development and tests (oidc-provider), mounted under /oidc
 * in the API process when OIDC_ISSUER is unset. Users come from DEV_USERS; its signing keys are
 * generated at start and kept in memory, like the rest of its state (sessions, grants): a restart
 * only means signing in at the provider again; Sightline's own sessions live in PostgreSQL.
 * It refuses to run in production. oidc-provider is loaded only when this provider runs.
 */
export class DevIdentityProvider {
  private readonly logger = new Logger('DevIdentityProvider');

  private constructor(
    private readonly users: DevUser[],
    readonly provider?: Provider,
  ) {}

  /** The Nest factory: a running provider in the API process without OIDC_ISSUER, else an inert one. */
  static async create(config: AppConfig, role: ProcessRole): Promise<DevIdentityProvider> {
    if (role !== 'api' || !usesEmbeddedProvider(config)) return new DevIdentityProvider([]);
    if (config.NODE_ENV === 'production') {
      throw new Error(
        'OIDC_ISSUER is not set: the embedded development identity provider refuses to run when NODE_ENV=production. ' +
          'Set OIDC_ISSUER, OIDC_CLIENT_ID and OIDC_CLIENT_SECRET to your OpenID Connect provider (see docker/keycloak).',
      );
    }
    const users = parseDevUsers(config.DEV_USERS);
    const oidc = await import('oidc-provider');
    const { createMemoryAdapter } = await import('oidc-provider/lib/adapters/memory_adapter.js');
    return new DevIdentityProvider(users, createProvider(config, users, oidc, createMemoryAdapter));
  }

  private findUser(name: unknown): DevUser | undefined {
    return this.users.find((u) => u.name === name);
  }

  /** Mounts the provider and its login pages under /oidc (before the API's body parsers). */
  mount(app: express.Application): void {
    const provider = this.provider;
    if (!provider) return;
    const router = express.Router();
    const form = express.urlencoded({ extended: false, limit: '8kb' });
    const loginPage = (details: InteractionDetails, extra: { username?: string; error?: string } = {}) =>
      devLoginPage({
        action: `${EMBEDDED_PROVIDER_PATH}/interaction/${details.uid}/login`,
        abort: `${EMBEDDED_PROVIDER_PATH}/interaction/${details.uid}/abort`,
        users: this.users,
        ...extra,
      });

    router.get('/interaction/:uid', async (req: Request, res: Response, next: NextFunction) => {
      try {
        const details = await provider.interactionDetails(req, res);
        res.setHeader('Cache-Control', 'no-store');
        if (details.prompt.name === 'login') {
          res.type('html').send(loginPage(details, { username: typeof details.params.login_hint === 'string' ? details.params.login_hint : undefined }));
          return;
        }
        if (details.prompt.name === 'consent') {
          await this.grantConsent(provider, details, req, res);
          return;
        }
        res
          .status(400)
          .type('html')
          .send(errorPage({ error: 'unsupported prompt', prompt: details.prompt.name }));
      } catch (error) {
        next(error);
      }
    });

    router.post('/interaction/:uid/login', form, async (req: Request, res: Response, next: NextFunction) => {
      try {
        const details = await provider.interactionDetails(req, res);
        res.setHeader('Cache-Control', 'no-store');
        if (details.prompt.name !== 'login') {
          res
            .status(400)
            .type('html')
            .send(errorPage({ error: 'this sign-in request is not waiting for a password' }));
          return;
        }
        const body = (req.body ?? {}) as Record<string, unknown>;
        const username = typeof body.username === 'string' ? body.username.trim() : '';
        const password = typeof body.password === 'string' ? body.password : '';
        const user = this.findUser(username);
        if (!user || !passwordMatches(password, user.password)) {
          res
            .status(401)
            .type('html')
            .send(loginPage(details, { username, error: 'Unknown user name or wrong password.' }));
          return;
        }
        await provider.interactionFinished(req, res, { login: { accountId: user.name } }, { mergeWithLastSubmission: false });
      } catch (error) {
        next(error);
      }
    });

    router.get('/interaction/:uid/abort', async (req: Request, res: Response, next: NextFunction) => {
      try {
        await provider.interactionFinished(req, res, { error: 'access_denied', error_description: 'The person cancelled the sign-in' }, { mergeWithLastSubmission: false });
      } catch (error) {
        next(error);
      }
    });

    // An expired or foreign interaction (missing cookie): a page, not a stack trace.
    router.use((error: Error & { error_description?: string }, _req: Request, res: Response, _next: NextFunction) => {
      res
        .status(400)
        .type('html')
        .send(errorPage({ error: error.message, detail: error.error_description ?? 'Start again from the application.' }));
    });

    app.use(EMBEDDED_PROVIDER_PATH, router, provider.callback());
    this.logger.log(`embedded identity provider at ${provider.issuer} (users: ${this.users.map((u) => u.name).join(', ') || 'none'})`);
  }

  /**
   * Sightline is the provider's only client and first-party: consent is implied, so the grant
   * takes whatever was asked (scopes, claims, the API resource) without showing a page.
   */
  private async grantConsent(provider: Provider, details: InteractionDetails, req: Request, res: Response): Promise<void> {
    const missing = details.prompt.details as { missingOIDCScope?: string[]; missingOIDCClaims?: string[]; missingResourceScopes?: Record<string, string[]> };
    const grant =
      (details.grantId ? await provider.Grant.find(details.grantId) : undefined) ??
      new provider.Grant({ accountId: details.session!.accountId!, clientId: String(details.params.client_id) });
    if (missing.missingOIDCScope) grant.addOIDCScope(missing.missingOIDCScope.join(' '));
    if (missing.missingOIDCClaims) grant.addOIDCClaims(missing.missingOIDCClaims);
    for (const [indicator, scopes] of Object.entries(missing.missingResourceScopes ?? {})) grant.addResourceScope(indicator, scopes.join(' '));
    const grantId = await grant.save();
    await provider.interactionFinished(req, res, { consent: { grantId } }, { mergeWithLastSubmission: true });
  }
}

function createProvider(config: AppConfig, users: DevUser[], oidc: OidcProviderModule, createMemoryAdapter: (clockTolerance: number) => unknown): Provider {
  const { default: Provider, errors } = oidc;
  const logger = new Logger('DevIdentityProvider');
  const rsa = generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey.export({ format: 'jwk' });
  const ec = generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey.export({ format: 'jwk' });
  const resource = apiResourceIndicator(config);
  const claimsOf = (user: DevUser) => ({
    sub: user.name,
    name: user.name,
    preferred_username: user.name,
    email: `${user.name}@example.org`,
    email_verified: true,
    roles: [user.role],
  });

  const provider = new Provider(oidcIssuer(config), {
    adapter: createMemoryAdapter(15),
    clients: [
      {
        client_id: config.OIDC_CLIENT_ID,
        client_secret: oidcClientSecret(config),
        client_name: 'Sightline',
        redirect_uris: [loginRedirectUri(config)],
        post_logout_redirect_uris: [postLogoutRedirectUri(config)],
        response_types: ['code'],
        grant_types: ['authorization_code', 'refresh_token'],
        token_endpoint_auth_method: 'client_secret_post',
      },
    ],
    clientBasedCORS: () => false,
    jwks: {
      keys: [
        { ...rsa, use: 'sig', alg: 'RS256' },
        { ...ec, use: 'sig', alg: 'ES256' },
      ],
    },
    cookies: { keys: [derivedSecret(config, 'dev-provider-cookies')] },
    pkce: { required: () => true },
    claims: {
      openid: ['sub'],
      profile: ['name', 'preferred_username', 'roles'],
      email: ['email', 'email_verified'],
    },
    findAccount: (_ctx: unknown, id: string) => {
      const user = users.find((u) => u.name === id);
      return user ? { accountId: user.name, claims: () => claimsOf(user) } : undefined;
    },
    // JWT access tokens carry who the person is, as Keycloak's do, so an API can act on them alone.
    extraTokenClaims: (_ctx: unknown, token: { kind: string; accountId?: string; resourceServer?: unknown }) => {
      const user = token.kind === 'AccessToken' && token.resourceServer ? users.find((u) => u.name === token.accountId) : undefined;
      if (!user) return undefined;
      const { preferred_username, email, email_verified, roles } = claimsOf(user);
      return { preferred_username, email, email_verified, roles };
    },
    interactions: { url: (_ctx: unknown, interaction: { uid: string }) => `${EMBEDDED_PROVIDER_PATH}/interaction/${interaction.uid}` },
    features: {
      devInteractions: { enabled: false },
      rpInitiatedLogout: {
        enabled: true,
        logoutSource: (ctx: KoaContextWithOIDC, form: string) => {
          ctx.type = 'html';
          ctx.body = devLogoutPage(ctx.host, form);
        },
        postLogoutSuccessSource: (ctx: KoaContextWithOIDC) => {
          ctx.type = 'html';
          ctx.body = messagePage('Signed out', 'You are signed out of the development identity provider.');
        },
      },
      // Scripts that want a JWT access token for Sightline ask for resource=<PUBLIC_URL>/api.
      resourceIndicators: {
        enabled: true,
        defaultResource: (_ctx: unknown, _client: unknown, oneOf?: string) => oneOf,
        useGrantedResource: () => true,
        getResourceServerInfo: (_ctx: unknown, indicator: string) => {
          if (indicator !== resource) throw new errors.InvalidTarget(`unknown resource ${indicator}; use ${resource}`);
          return {
            scope: 'api',
            audience: config.OIDC_CLIENT_ID,
            accessTokenFormat: 'jwt',
            accessTokenTTL: ACCESS_TOKEN_TTL,
            jwt: { sign: { alg: 'ES256' } },
          };
        },
      },
    },
    renderError: (ctx: KoaContextWithOIDC, out: Record<string, unknown>) => {
      ctx.type = 'html';
      ctx.body = errorPage(out);
    },
    ttl: {
      AccessToken: (_ctx: unknown, token: { resourceServer?: { accessTokenTTL?: number } }) => token.resourceServer?.accessTokenTTL ?? ACCESS_TOKEN_TTL,
      AuthorizationCode: 60,
      IdToken: 3600,
      Interaction: 600,
      Session: config.SESSION_TTL_SECONDS,
      Grant: config.SESSION_TTL_SECONDS,
      RefreshToken: 24 * 3600,
    },
  });
  provider.proxy = config.TRUST_PROXY_HOPS > 0;
  provider.on('server_error', (_ctx: unknown, error: unknown) => logger.error({ err: error }, 'embedded identity provider error'));
  return provider;
}

import type { NestExpressApplication } from '@nestjs/platform-express';
import { DevIdentityProvider } from './dev-identity-provider.js';

/**
 * What authentication adds to the HTTP server outside Nest's routing: the embedded development
 * identity provider under /oidc (when OIDC_ISSUER is unset). Call it before the body parsers:
 * the provider reads its own request bodies.
 */
export function configureAuthHttp(app: NestExpressApplication): void {
  app.get(DevIdentityProvider).mount(app.getHttpAdapter().getInstance());
}

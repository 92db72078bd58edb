import { createHmac } from 'node:crypto';
import { AppConfig, secretKey } from '../config/app-config.js';

/** Where the embedded development identity provider is mounted (outside the /api prefix). */
export const EMBEDDED_PROVIDER_PATH = '/oidc';

/** Where the API lives for the browser: the origin of PUBLIC_URL. */
export function publicOrigin(config: AppConfig): string {
  return new URL(config.PUBLIC_URL).origin;
}

/** True when this instance runs its own identity provider (OIDC_ISSUER unset). */
export function usesEmbeddedProvider(config: AppConfig): boolean {
  return !config.OIDC_ISSUER;
}

/** The issuer identifier Sightline trusts, without a trailing slash. */
export function oidcIssuer(config: AppConfig): string {
  const issuer = config.OIDC_ISSUER ?? `${publicOrigin(config)}${EMBEDDED_PROVIDER_PATH}`;
  return issuer.replace(/\/+$/, '');
}

/** A secret derived from SECRET_KEY for one purpose, so one leak does not reveal the others. */
export function derivedSecret(config: AppConfig, purpose: string): string {
  return createHmac('sha256', secretKey(config)).update(`sightline:${purpose}`).digest('base64url');
}

/** The client secret: OIDC_CLIENT_SECRET, or one derived from SECRET_KEY for the embedded provider. */
export function oidcClientSecret(config: AppConfig): string | undefined {
  return config.OIDC_CLIENT_SECRET ?? (usesEmbeddedProvider(config) ? derivedSecret(config, 'oidc-client') : undefined);
}

export function loginRedirectUri(config: AppConfig): string {
  return `${publicOrigin(config)}/api/auth/redirect`;
}

/** Where the identity provider sends the browser after it logged the person out. */
export function postLogoutRedirectUri(config: AppConfig): string {
  return `${publicOrigin(config)}/api/docs`;
}

/**
 * The resource indicator (RFC 8707) scripts ask the embedded provider for, to receive a JWT
 * access token meant for Sightline (audience OIDC_CLIENT_ID).
 */
export function apiResourceIndicator(config: AppConfig): string {
  return `${publicOrigin(config)}/api`;
}

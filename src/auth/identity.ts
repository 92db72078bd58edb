/** Who an identity provider says a person is, from ID token, userinfo or access token claims. */
export interface Identity {
  issuer: string;
  subject: string;
  name: string;
  /** Whether `name` came from a name claim (rather than falling back to the e-mail or subject). */
  named: boolean;
  email: string | null;
  /** False only when the provider says the address is unverified. */
  emailVerified: boolean;
  /** Roles the provider grants (`roles`, or Keycloak's `realm_access.roles`). */
  roles: string[];
}

const text = (value: unknown): string | undefined => (typeof value === 'string' && value.trim() ? value.trim() : undefined);

export function identityFromClaims(issuer: string, claims: Record<string, unknown>): Identity {
  const subject = text(claims.sub);
  if (!subject) throw new Error('the identity has no subject (sub claim)');
  const email = text(claims.email) ?? null;
  const roles = new Set<string>();
  const collect = (value: unknown) => {
    if (Array.isArray(value)) for (const r of value) if (typeof r === 'string') roles.add(r);
  };
  collect(claims.roles);
  collect((claims.realm_access as { roles?: unknown } | undefined)?.roles);
  const name = text(claims.preferred_username) ?? text(claims.name);
  return {
    issuer,
    subject,
    name: name ?? email ?? subject,
    named: name !== undefined,
    email,
    emailVerified: claims.email_verified !== false,
    roles: [...roles],
  };
}

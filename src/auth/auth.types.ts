export type Role = 'user' | 'admin';

/** Who is calling, as every route and service sees it. */
export interface AuthUser {
  id: string;
  name: string;
  role: Role;
  email?: string | null;
  /** How the request was authenticated. */
  via: 'session' | 'api-token' | 'oidc-token';
}

export type RequestWithUser = import('express').Request & { user?: AuthUser; id?: string };

import type { Role } from '../../src/auth/auth.types.js';
import { TokensService } from '../../src/auth/tokens.service.js';
import { UsersService } from '../../src/auth/users.service.js';
import type { TestApi } from './app.js';

export interface TestUser {
  id: string;
  name: string;
  role: Role;
  /** A Sightline API token (JWT) acting as this user. */
  token: string;
  /** `{ authorization: 'Bearer …' }` to spread into fetch headers. */
  headers: Record<string, string>;
}

/** A user of this instance with a fresh API token, made through the app's own services. */
export async function createUser(api: TestApi, name: string, role: Role = 'user'): Promise<TestUser> {
  const unique = `${name}-${Math.random().toString(36).slice(2, 8)}`;
  const user = await api.app.get(UsersService).upsertLocal(unique, role);
  const { jwt } = await api.app.get(TokensService).create(user.id, `test token of ${unique}`);
  return { id: user.id, name: unique, role, token: jwt, headers: { authorization: `Bearer ${jwt}` } };
}

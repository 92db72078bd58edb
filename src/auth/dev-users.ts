import { timingSafeEqual, createHash } from 'node:crypto';
import type { Role } from './auth.types.js';

/** A user of the embedded development identity provider. */
export interface DevUser {
  name: string;
  role: Role;
  password: string;
}

/**
 * Parses DEV_USERS: `name:role[:password]`, comma separated; the password is the name when not
 * given. Throws on a malformed entry so a typo does not silently lock someone out.
 */
export function parseDevUsers(spec: string): DevUser[] {
  const users: DevUser[] = [];
  for (const entry of spec
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean)) {
    const [name, role = 'user', ...rest] = entry.split(':');
    const password = rest.length > 0 ? rest.join(':') : name;
    if (!name || !/^[A-Za-z0-9._@-]{1,64}$/.test(name)) throw new Error(`DEV_USERS: "${entry}" has no valid name (letters, digits, . _ @ -)`);
    if (role !== 'user' && role !== 'admin') throw new Error(`DEV_USERS: "${entry}" has role "${role}"; use user or admin`);
    if (!password) throw new Error(`DEV_USERS: "${entry}" has an empty password`);
    if (users.some((u) => u.name === name)) throw new Error(`DEV_USERS: "${name}" is listed twice`);
    users.push({ name, role, password: password! });
  }
  return users;
}

/** Compares passwords in constant time (hashes first so lengths do not leak either). */
export function passwordMatches(given: string, expected: string): boolean {
  const a = createHash('sha256').update(given).digest();
  const b = createHash('sha256').update(expected).digest();
  return timingSafeEqual(a, b);
}

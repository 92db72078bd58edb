import { BadRequestException, Injectable, NotFoundException } from '@nestjs/common';
import { InjectRepository } from '@nestjs/typeorm';
import { Repository } from 'typeorm';
import { AppConfig } from '../config/app-config.js';
import type { AuthUser, Role } from './auth.types.js';
import type { Identity } from './identity.js';
import { User } from './user.entity.js';
import { UsersRepository, type UserSummary } from './users.repository.js';
import type { Visibility } from './visibility.js';

export function toAuthUser(user: Pick<User, 'id' | 'name' | 'role' | 'email'>, via: AuthUser['via']): AuthUser {
  return { id: user.id, name: user.name, role: user.role, email: user.email, via };
}

@Injectable()
export class UsersService {
  private readonly adminSubjects: Set<string>;
  private readonly adminEmails: Set<string>;

  constructor(
    @InjectRepository(User) private readonly users: Repository<User>,
    private readonly repository: UsersRepository,
    config: AppConfig,
  ) {
    this.adminSubjects = new Set(config.ADMIN_SUBJECTS);
    this.adminEmails = new Set(config.ADMIN_EMAILS.map((e) => e.toLowerCase()));
  }

  findById(id: string): Promise<User | null> {
    return this.users.findOneBy({ id });
  }

  async getById(id: string): Promise<User> {
    const user = await this.findById(id);
    if (!user) throw new NotFoundException(`User ${id} not found`);
    return user;
  }

  /** Users with exactly this name, oldest first (names are not unique across identity providers). */
  findByName(name: string): Promise<User[]> {
    return this.users.find({ where: { name }, order: { createdAt: 'ASC' } });
  }

  /** Creates or updates the user an identity provider vouches for (unique on issuer + subject). */
  async upsertFromIdentity(identity: { issuer: string; subject: string; name: string; email?: string | null; role?: Role; keepName?: boolean }): Promise<User> {
    const { keepName, ...fields } = identity;
    const existing = await this.users.findOneBy({ issuer: identity.issuer, subject: identity.subject });
    if (existing) {
      const name = keepName ? existing.name : identity.name;
      const email = identity.email ?? existing.email;
      const role = identity.role ?? existing.role;
      if (existing.name === name && existing.email === email && existing.role === role) return existing;
      existing.name = name;
      existing.email = email;
      existing.role = role;
      return this.users.save(existing);
    }
    return this.users.save(this.users.create({ ...fields, email: identity.email ?? null, role: identity.role ?? 'user' }));
  }

  /**
   * Whether an identity is an administrator: its subject is in ADMIN_SUBJECTS, its (verified)
   * e-mail in ADMIN_EMAILS, or the provider grants it the `admin` role.
   */
  isAdminIdentity(identity: Identity): boolean {
    return (
      this.adminSubjects.has(identity.subject) ||
      (identity.email !== null && identity.emailVerified && this.adminEmails.has(identity.email.toLowerCase())) ||
      identity.roles.includes('admin')
    );
  }

  /**
   * The user for a login or a provider access token. Being an admin by configuration or by the
   * provider promotes; otherwise the stored role is kept (an admin may have promoted them here).
   */
  upsertFromLogin(identity: Identity): Promise<User> {
    return this.upsertFromIdentity({
      issuer: identity.issuer,
      subject: identity.subject,
      name: identity.name,
      keepName: !identity.named,
      email: identity.email,
      role: this.isAdminIdentity(identity) ? 'admin' : undefined,
    });
  }

  /** A user local to this instance (made by the CLI or tests), keyed by name; `role` when given. */
  upsertLocal(name: string, role?: Role): Promise<User> {
    return this.upsertFromIdentity({ issuer: 'local', subject: name, name, role });
  }

  async setDefaultVisibility(id: string, visibility: Visibility): Promise<User> {
    const user = await this.getById(id);
    user.defaultVisibility = visibility;
    return this.users.save(user);
  }

  /** Changes a user's role (admin only). An admin cannot demote themselves, so one always remains. */
  async setRole(actor: AuthUser, id: string, role: Role): Promise<User> {
    const user = await this.getById(id);
    if (user.id === actor.id && role !== 'admin') throw new BadRequestException('You cannot remove your own admin role; ask another administrator');
    user.role = role;
    return this.users.save(user);
  }

  /** Sets a role without an acting user (the command line). */
  async setRoleUnchecked(id: string, role: Role): Promise<User> {
    const user = await this.getById(id);
    user.role = role;
    return this.users.save(user);
  }

  search(query: string | undefined, limit: number, offset: number): Promise<{ users: UserSummary[]; total: number }> {
    return this.repository.search(query, limit, offset);
  }
}

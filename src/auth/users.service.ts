import { Injectable } from '@nestjs/common';
import { InjectRepository } from '@nestjs/typeorm';
import { Repository } from 'typeorm';
import type { Role } from './auth.types.js';
import { User } from './user.entity.js';

@Injectable()
export class UsersService {
  constructor(@InjectRepository(User) private readonly users: Repository<User>) {}

  findById(id: string): Promise<User | null> {
    return this.users.findOneBy({ id });
  }

  /** Creates or updates the user an identity provider vouches for (unique on issuer + subject). */
  async upsertFromIdentity(identity: { issuer: string; subject: string; name: string; email?: string | null; role?: Role }): Promise<User> {
    const existing = await this.users.findOneBy({ issuer: identity.issuer, subject: identity.subject });
    if (existing) {
      existing.name = identity.name;
      existing.email = identity.email ?? existing.email;
      if (identity.role) existing.role = identity.role;
      return this.users.save(existing);
    }
    return this.users.save(this.users.create({ ...identity, email: identity.email ?? null, role: identity.role ?? 'user' }));
  }

  /** A user local to this instance (made by the CLI or tests), keyed by name. */
  upsertLocal(name: string, role: Role = 'user'): Promise<User> {
    return this.upsertFromIdentity({ issuer: 'local', subject: name, name, role });
  }
}

import { Column, CreateDateColumn, Entity, Index, PrimaryGeneratedColumn, UpdateDateColumn } from 'typeorm';
import type { Role } from './auth.types.js';
import { Visibility } from './visibility.js';

@Entity('users')
@Index(['issuer', 'subject'], { unique: true })
// Trigram index for the admin name search; made by hand in migrations/1763800001100-users-name-search.ts.
@Index('ix_users_name_trgm', { synchronize: false })
export class User {
  @PrimaryGeneratedColumn('uuid')
  id: string;

  /** The identity provider that vouches for this user (`local` for CLI-made accounts). */
  @Column({ type: 'text' })
  issuer: string;

  @Column({ type: 'text' })
  subject: string;

  @Column({ type: 'text' })
  name: string;

  @Column({ type: 'text', nullable: true })
  email: string | null;

  @Column({ type: 'varchar', length: 16, default: 'user' })
  role: Role;

  /** Visibility given to new content when the upload does not say. */
  @Column({ type: 'varchar', length: 16, default: Visibility.Anyone })
  defaultVisibility: Visibility;

  @CreateDateColumn({ type: 'timestamptz' })
  createdAt: Date;

  @UpdateDateColumn({ type: 'timestamptz' })
  updatedAt: Date;
}

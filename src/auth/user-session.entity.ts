import { Column, CreateDateColumn, Entity, Index, JoinColumn, ManyToOne, PrimaryColumn, UpdateDateColumn } from 'typeorm';
import { User } from './user.entity.js';

/**
 * A browser session (express-session). The cookie carries only a random id; the row is keyed by
 * its SHA-256, so the table alone does not let anyone take a session over. `user_id` is set once
 * the person logged in (before that the row only holds the login's state, nonce and PKCE
 * verifier); deleting a user ends their sessions.
 */
@Entity('user_session')
@Index(['userId'])
@Index(['expiresAt'])
export class UserSession {
  @PrimaryColumn({ type: 'text' })
  id: string;

  @Column({ type: 'uuid', nullable: true })
  userId: string | null;

  @ManyToOne(() => User, { onDelete: 'CASCADE', nullable: true })
  @JoinColumn({ name: 'user_id' })
  user?: User | null;

  @Column({ type: 'jsonb' })
  data: Record<string, unknown>;

  @Column({ type: 'timestamptz' })
  expiresAt: Date;

  @CreateDateColumn({ type: 'timestamptz' })
  createdAt: Date;

  @UpdateDateColumn({ type: 'timestamptz' })
  updatedAt: Date;
}

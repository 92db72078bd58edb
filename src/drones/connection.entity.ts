import { Column, CreateDateColumn, Entity, Index, JoinColumn, ManyToOne, PrimaryGeneratedColumn } from 'typeorm';
import type { DroneWorkspace } from './workspace.entity.js';

/**
 * A pilot app's way into a workspace: `connection_id` + a secret shown once (stored as a
 * scrypt hash). Deleting it ends its tokens, its MQTT access and its devices' binding.
 */
@Entity('drone_connection')
export class DroneConnection {
  @PrimaryGeneratedColumn('uuid')
  id: string;

  @Index()
  @Column({ type: 'uuid' })
  workspaceId: string;

  @ManyToOne('DroneWorkspace', { onDelete: 'CASCADE' })
  @JoinColumn({ name: 'workspace_id' })
  workspace?: DroneWorkspace;

  /** Public identifier the pilot types in (also its MQTT user name). */
  @Index({ unique: true })
  @Column({ type: 'varchar', length: 64 })
  connectionId: string;

  @Column({ type: 'text' })
  name: string;

  /** `scrypt$<salt hex>$<hash hex>` of the secret. */
  @Column({ type: 'text' })
  secretHash: string;

  @Column({ type: 'uuid', nullable: true })
  createdBy: string | null;

  @CreateDateColumn({ type: 'timestamptz' })
  createdAt: Date;

  @Column({ type: 'timestamptz', nullable: true })
  lastLoginAt: Date | null;
}

/** A token a connection's login handed out (`x-auth-token` of the DJI-compatible routes); only its SHA-256 is kept. */
@Entity('drone_connection_token')
export class DroneConnectionToken {
  @PrimaryGeneratedColumn('uuid')
  id: string;

  @Index()
  @Column({ type: 'uuid' })
  connectionId: string;

  @ManyToOne('DroneConnection', { onDelete: 'CASCADE' })
  @JoinColumn({ name: 'connection_id' })
  connection?: DroneConnection;

  @Index({ unique: true })
  @Column({ type: 'char', length: 64 })
  tokenHash: string;

  @CreateDateColumn({ type: 'timestamptz' })
  createdAt: Date;

  @Column({ type: 'timestamptz' })
  expiresAt: Date;
}

import { Column, CreateDateColumn, Entity, Index, JoinColumn, ManyToOne, PrimaryGeneratedColumn, UpdateDateColumn } from 'typeorm';
import { GeometryColumn, type Point } from '../database/geometry.js';

/** A team's place for its pilots, remote controllers, aircraft, flights and media. */
@Entity('drone_workspace')
export class DroneWorkspace {
  @PrimaryGeneratedColumn('uuid')
  id: string;

  /** The id the pilot app and DJI's protocol know the workspace by (`workspace_id`); can be regenerated. */
  @Index({ unique: true })
  @Column({ type: 'uuid' })
  uuid: string;

  @Column({ type: 'text' })
  name: string;

  @Column({ type: 'text', default: '' })
  description: string;

  /** Where the team flies (a point), shown to the pilot app; optional. */
  @GeometryColumn('Point', { nullable: true })
  location: Point | null;

  @Index()
  @Column({ type: 'uuid', nullable: true })
  ownerId: string | null;

  // The users table is the auth domain's: referenced by entity name, not imported.
  @ManyToOne('User', { onDelete: 'SET NULL', nullable: true })
  @JoinColumn({ name: 'owner_id' })
  owner?: unknown;

  @CreateDateColumn({ type: 'timestamptz' })
  createdAt: Date;

  @UpdateDateColumn({ type: 'timestamptz' })
  updatedAt: Date;
}

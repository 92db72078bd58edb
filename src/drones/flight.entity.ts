import { Column, CreateDateColumn, Entity, Index, JoinColumn, ManyToOne, PrimaryColumn, PrimaryGeneratedColumn, UpdateDateColumn } from 'typeorm';
import { GeometryColumn, type Geometry } from '../database/geometry.js';

export type FlightStatus = 'in_flight' | 'landed' | 'ended';

/** One flight of an aircraft: detected from its telemetry, or created (and corrected) by hand. */
@Entity('drone_flight')
@Index(['deviceId', 'startedAt'])
export class DroneFlight {
  @PrimaryGeneratedColumn('uuid')
  id: string;

  @Index()
  @Column({ type: 'uuid' })
  workspaceId: string;

  @ManyToOne('DroneWorkspace', { onDelete: 'CASCADE' })
  @JoinColumn({ name: 'workspace_id' })
  workspace?: unknown;

  /** The aircraft (null when it was deleted). */
  @Column({ type: 'uuid', nullable: true })
  deviceId: string | null;

  @ManyToOne('DroneDevice', { onDelete: 'SET NULL', nullable: true })
  @JoinColumn({ name: 'device_id' })
  device?: unknown;

  @Column({ type: 'varchar', length: 64, nullable: true })
  deviceSn: string | null;

  @Column({ type: 'text', nullable: true })
  name: string | null;

  @Column({ type: 'varchar', length: 16 })
  status: FlightStatus;

  @Column({ type: 'timestamptz' })
  startedAt: Date;

  @Column({ type: 'timestamptz', nullable: true })
  landedAt: Date | null;

  @Column({ type: 'timestamptz', nullable: true })
  endedAt: Date | null;

  /** Why it ended: `offline`, `silence`, `mode`, `take_off_again`, `manual`. */
  @Column({ type: 'varchar', length: 32, nullable: true })
  endReason: string | null;

  @Column({ type: 'boolean', default: false })
  isCreatedManually: boolean;

  /** The downsampled track, a LineString (null below two points). */
  @GeometryColumn('LineString', { nullable: true })
  track: Geometry | null;

  @Column({ type: 'integer', default: 0 })
  pointCount: number;

  @Column({ type: 'double precision', nullable: true })
  maxElevation: number | null;

  @Column({ type: 'double precision', nullable: true })
  distanceM: number | null;

  @CreateDateColumn({ type: 'timestamptz' })
  createdAt: Date;

  @UpdateDateColumn({ type: 'timestamptz' })
  updatedAt: Date;
}

/** A kept telemetry point of an aircraft (downsampled); unique per serial number and time. */
@Entity('drone_track_point')
@Index(['flightId', 'at'])
export class DroneTrackPoint {
  @PrimaryColumn({ type: 'varchar', length: 64 })
  sn: string;

  @PrimaryColumn({ type: 'timestamptz' })
  at: Date;

  @Column({ type: 'uuid', nullable: true })
  flightId: string | null;

  @ManyToOne('DroneFlight', { onDelete: 'SET NULL', nullable: true })
  @JoinColumn({ name: 'flight_id' })
  flight?: unknown;

  @Column({ type: 'double precision' })
  lon: number;

  @Column({ type: 'double precision' })
  lat: number;

  @Column({ type: 'double precision', nullable: true })
  height: number | null;

  @Column({ type: 'double precision', nullable: true })
  elevation: number | null;

  @Column({ type: 'double precision', nullable: true })
  heading: number | null;

  @Column({ type: 'double precision', nullable: true })
  horizontalSpeed: number | null;

  @Column({ type: 'double precision', nullable: true })
  verticalSpeed: number | null;

  @Column({ type: 'integer', nullable: true })
  modeCode: number | null;

  @Column({ type: 'integer', nullable: true })
  batteryPercent: number | null;
}

import { Column, CreateDateColumn, Entity, Index, JoinColumn, ManyToOne, PrimaryGeneratedColumn, UpdateDateColumn } from 'typeorm';

export type DeviceKind = 'gateway' | 'aircraft';

/**
 * A remote controller (a gateway, which speaks MQTT for itself and its aircraft) or an
 * aircraft, known by serial number and bound to a workspace through a connection.
 */
@Entity('drone_device')
export class DroneDevice {
  @PrimaryGeneratedColumn('uuid')
  id: string;

  @Index({ unique: true })
  @Column({ type: 'varchar', length: 64 })
  sn: string;

  @Column({ type: 'varchar', length: 16 })
  kind: DeviceKind;

  @Index()
  @Column({ type: 'uuid', nullable: true })
  workspaceId: string | null;

  @ManyToOne('DroneWorkspace', { onDelete: 'SET NULL', nullable: true })
  @JoinColumn({ name: 'workspace_id' })
  workspace?: unknown;

  /** The connection that bound it (null once that connection is deleted: telemetry is then dropped). */
  @Index()
  @Column({ type: 'uuid', nullable: true })
  connectionId: string | null;

  @ManyToOne('DroneConnection', { onDelete: 'SET NULL', nullable: true })
  @JoinColumn({ name: 'connection_id' })
  connection?: unknown;

  /** DJI's model key `domain-type-sub_type` (e.g. `0-67-0` Matrice 30, `2-144-0` RC Plus). */
  @Column({ type: 'varchar', length: 32, nullable: true })
  modelKey: string | null;

  @Column({ type: 'text', nullable: true })
  modelName: string | null;

  @Column({ type: 'text', nullable: true })
  firmwareVersion: string | null;

  @Column({ type: 'text', nullable: true })
  callsign: string | null;

  /** An aircraft's gateway (its remote controller's serial number), from the topology. */
  @Column({ type: 'varchar', length: 64, nullable: true })
  gatewaySn: string | null;

  @Column({ type: 'boolean', default: false })
  online: boolean;

  @Column({ type: 'timestamptz', nullable: true })
  lastConnectedAt: Date | null;

  // Last state, for fast reads.
  @Column({ type: 'timestamptz', nullable: true })
  lastTelemetryAt: Date | null;

  @Column({ type: 'double precision', nullable: true })
  lastLon: number | null;

  @Column({ type: 'double precision', nullable: true })
  lastLat: number | null;

  /** Height above the ellipsoid (m), as DJI's `height`. */
  @Column({ type: 'double precision', nullable: true })
  lastHeight: number | null;

  /** Height above the take-off point (m), DJI's `elevation`. */
  @Column({ type: 'double precision', nullable: true })
  lastElevation: number | null;

  @Column({ type: 'double precision', nullable: true })
  lastHeading: number | null;

  @Column({ type: 'integer', nullable: true })
  lastModeCode: number | null;

  @Column({ type: 'integer', nullable: true })
  lastBatteryPercent: number | null;

  /** The last telemetry message's fields, as received (normalised). */
  @Column({ type: 'jsonb', default: () => "'{}'" })
  lastState: Record<string, unknown>;

  /** Flight detection's working state (the current flight, consecutive on-the-ground messages…). */
  @Column({ type: 'jsonb', default: () => "'{}'" })
  flightState: Record<string, unknown>;

  @CreateDateColumn({ type: 'timestamptz' })
  createdAt: Date;

  @UpdateDateColumn({ type: 'timestamptz' })
  updatedAt: Date;
}

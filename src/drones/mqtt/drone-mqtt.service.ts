import { randomBytes } from 'node:crypto';
import { Inject, Injectable, Logger, OnApplicationBootstrap, OnApplicationShutdown } from '@nestjs/common';
import { connect, type MqttClient } from 'mqtt';
import { AppConfig } from '../../config/app-config.js';
import { HealthService } from '../../health/health.service.js';
import { PROCESS_ROLE, type ProcessRole } from '../../queue/process-role.js';
import { DroneDevicesService } from '../devices.service.js';
import { DroneMqttAccessService } from '../mqtt-access.service.js';
import { DroneTelemetryService } from '../telemetry.service.js';
import { parseTopic, parseTopology, topologyReply } from './dji-messages.js';

/** Whether this process consumes telemetry, by MQTT_CONSUMER. */
export function consumes(config: Pick<AppConfig, 'MQTT_CONSUMER'>, role: ProcessRole): boolean {
  if (role === 'cli') return false;
  return config.MQTT_CONSUMER === 'both' || config.MQTT_CONSUMER === role;
}

/** The subscriptions of a consumer: shared, so that every consumer of the group gets its share. */
export function subscriptions(group: string): string[] {
  return [`$share/${group}/thing/product/+/osd`, `$share/${group}/sys/product/+/status`];
}

/**
 * The MQTT consumer: subscribes (shared subscriptions) to DJI's telemetry and topology topics,
 * hands telemetry to DroneTelemetryService (batched writes) and topology to DroneDevicesService,
 * answers `update_topo` on `…/status_reply`, sweeps silent flights, and reports the broker in
 * the readiness check. Reconnects on its own (MQTT.js, every 2 s).
 */
@Injectable()
export class DroneMqttService implements OnApplicationBootstrap, OnApplicationShutdown {
  private readonly logger = new Logger(DroneMqttService.name);
  private client?: MqttClient;
  private sweeper?: NodeJS.Timeout;
  private lastError?: string;
  private subscribed = false;
  /** Topology handled one report at a time, in arrival order. */
  private topologyChain: Promise<void> = Promise.resolve();

  constructor(
    private readonly config: AppConfig,
    @Inject(PROCESS_ROLE) private readonly role: ProcessRole,
    private readonly telemetry: DroneTelemetryService,
    private readonly devices: DroneDevicesService,
    private readonly health: HealthService,
    private readonly access: DroneMqttAccessService,
  ) {}

  get consuming(): boolean {
    return consumes(this.config, this.role);
  }

  onApplicationBootstrap(): void {
    if (!this.consuming) return;
    this.health.registerCheck('mqtt', async () => {
      const details = { url: redactUrl(this.config.MQTT_URL), subscriptions: subscriptions(this.config.MQTT_SHARE_GROUP) };
      if (this.client?.connected && this.subscribed) return { up: true, details };
      return { up: false, details: { ...details, message: `MQTT broker not connected${this.lastError ? `: ${this.lastError}` : ''}` } };
    });
    this.start();
  }

  private start(): void {
    const clientId = `sightline-${this.role}-${process.pid}-${randomBytes(3).toString('hex')}`;
    const client = (this.client = connect(this.config.MQTT_URL, {
      clientId,
      username: this.config.MQTT_USERNAME,
      password: this.config.MQTT_PASSWORD,
      clean: true,
      reconnectPeriod: 2000,
      connectTimeout: 5000,
      keepalive: 30,
      protocolVersion: 5,
    }));
    client.on('connect', () => {
      this.lastError = undefined;
      // With the dynamic-security plugin, Sightline's account may also answer devices.
      this.access.ensureServiceRole().catch((error: Error) => this.logger.warn({ err: error.message }, 'MQTT service role not set up: topology replies may be refused'));
      this.logger.log({ url: redactUrl(this.config.MQTT_URL), clientId }, 'MQTT connected');
      client.subscribe(subscriptions(this.config.MQTT_SHARE_GROUP), { qos: 0 }, (error, granted) => {
        const refused = granted?.filter((g) => g.qos >= 128) ?? [];
        if (error || refused.length) {
          this.subscribed = false;
          this.lastError = error?.message ?? `subscription refused: ${refused.map((g) => g.topic).join(', ')}`;
          this.logger.error({ err: this.lastError }, 'MQTT subscription failed');
          return;
        }
        this.subscribed = true;
      });
    });
    client.on('close', () => {
      this.subscribed = false;
    });
    client.on('error', (error) => {
      if (this.lastError !== error.message) this.logger.warn({ err: error.message }, 'MQTT error');
      this.lastError = error.message;
    });
    client.on('message', (topic, payload) => this.onMessage(topic, payload));
    const every = Math.max(1000, Math.min(5000, (this.config.DRONE_SILENCE_SECONDS * 1000) / 4));
    this.sweeper = setInterval(() => {
      this.telemetry.sweepSilence().catch((error: Error) => this.logger.warn({ err: error.message }, 'silence sweep failed'));
    }, every);
    this.sweeper.unref();
  }

  /** Never throws: a bad message is counted and dropped, the consumer goes on. */
  private onMessage(topic: string, payload: Buffer): void {
    try {
      const parsed = parseTopic(topic);
      if (!parsed) return this.telemetry.malformed(topic, 'unexpected topic');
      if (parsed.kind === 'osd') return this.telemetry.receive(parsed.sn, topic, payload);
      const update = parseTopology(parsed.sn, payload, { maxBytes: this.config.MQTT_MAX_MESSAGE_BYTES });
      if (!update.ok) {
        // Other status methods exist (none handled yet); only update_topo is counted as accepted.
        return this.telemetry.malformed(topic, update.reason);
      }
      this.topologyChain = this.topologyChain.then(async () => {
        try {
          const bound = await this.devices.applyTopology(update.value);
          if (!bound) return this.telemetry.count('unbound');
          this.telemetry.count('accepted');
          this.client?.publish(`sys/product/${parsed.sn}/status_reply`, topologyReply(update.value), { qos: 0 });
        } catch (error) {
          this.telemetry.count('failed');
          this.logger.error({ err: (error as Error).message, gateway: parsed.sn }, 'topology not applied');
        }
      });
    } catch (error) {
      this.telemetry.malformed(topic, `unexpected error: ${(error as Error).message}`);
    }
  }

  async onApplicationShutdown(): Promise<void> {
    if (this.sweeper) clearInterval(this.sweeper);
    const client = this.client;
    this.client = undefined;
    if (client) await client.endAsync(true).catch(() => undefined);
    await this.topologyChain;
  }
}

function redactUrl(url: string): string {
  try {
    const u = new URL(url);
    if (u.password) u.password = '***';
    return u.toString();
  } catch {
    return url;
  }
}

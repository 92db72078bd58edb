import { createHmac, randomBytes } from 'node:crypto';
import { Injectable, Logger, NotFoundException, OnApplicationShutdown, ServiceUnavailableException } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { connect, type MqttClient } from 'mqtt';
import type { DataSource } from 'typeorm';
import { AppConfig, secretKey } from '../config/app-config.js';
import type { DroneMqttAccess, MqttCredentials } from './drone-mqtt-access.js';

/** DJI's apps want `tcp://host:port` (or `ssl://`) rather than `mqtt://` / `mqtts://`. */
function djiBrokerAddress(url: string): string {
  return url.replace(/^mqtt:\/\//i, 'tcp://').replace(/^mqtts:\/\//i, 'ssl://');
}

const idOf = (connection: string | { id: string }) => (typeof connection === 'string' ? connection : connection.id);

const CONTROL_TOPIC = '$CONTROL/dynamic-security/v1';
const RESPONSE_TOPIC = `${CONTROL_TOPIC}/response`;
const SERVICE_ROLE = 'sightline-service';
const roleOf = (connectionId: string) => `sightline-conn-${connectionId}`;

interface DynsecCommand {
  command: string;
  [key: string]: unknown;
}
interface DynsecResponse {
  command: string;
  error?: string;
  data?: Record<string, unknown>;
  correlationData?: string;
}

class ControlConnectionLost extends ServiceUnavailableException {
  constructor(message = 'the MQTT control connection closed before the answer') {
    super(message);
  }
}

/** The topic ACLs of a connection's serial numbers: publish and subscribe under its devices' topics only. */
export function aclsFor(sns: string[]): { acltype: string; topic: string; allow: boolean; priority: number }[] {
  return sns.flatMap((sn) =>
    ['thing', 'sys'].flatMap((root) => [
      { acltype: 'publishClientSend', topic: `${root}/product/${sn}/#`, allow: true, priority: 0 },
      { acltype: 'subscribePattern', topic: `${root}/product/${sn}/#`, allow: true, priority: 0 },
    ]),
  );
}

/**
 * MQTT access of pilot connections. Each connection's broker account is its `connection_id`
 * with a password derived from SECRET_KEY (nothing to store; the pilot app gets it at login).
 * With MQTT_DYNSEC, Sightline creates that account on Mosquitto (dynamic-security plugin,
 * managed over `$CONTROL/dynamic-security/v1` as MQTT_USERNAME) with a role allowing only the
 * topics of the serial numbers bound through the connection, keeps the role in step with the
 * bindings, and deletes the account when the connection goes (the broker disconnects it).
 * Without it, any client the broker lets in may publish; Sightline still drops telemetry of
 * serial numbers not bound to a workspace.
 */
@Injectable()
export class DroneMqttAccessService implements DroneMqttAccess, OnApplicationShutdown {
  private readonly logger = new Logger(DroneMqttAccessService.name);
  private control?: Promise<MqttClient>;
  private readonly pending = new Map<string, { resolve: (r: DynsecResponse) => void; reject: (e: Error) => void }>();
  private serviceRoleReady?: Promise<void>;

  constructor(
    @InjectDataSource() private readonly dataSource: DataSource,
    private readonly config: AppConfig,
  ) {}

  get managed(): boolean {
    return this.config.MQTT_DYNSEC;
  }

  private passwordOf(connectionRowId: string): string {
    return createHmac('sha256', secretKey(this.config)).update(`sightline-mqtt:${connectionRowId}`).digest('base64url').slice(0, 32);
  }

  /**
   * The broker credentials of a connection (its drone_connection.id, or the connection): its
   * `connection_id` and a password derived from SECRET_KEY, the same at every login (a second
   * device of the connection keeps its session). With MQTT_DYNSEC the account exists on the
   * broker when this returns. The login token given by the caller is not used as the password.
   */
  async credentialsFor(connection: string | { id: string }, _loginToken?: string): Promise<MqttCredentials> {
    const [row]: { id: string; connection_id: string }[] = await this.dataSource.query(`SELECT id, connection_id FROM drone_connection WHERE id = $1`, [idOf(connection)]);
    if (!row) throw new NotFoundException('Connection not found');
    const credentials = { host: djiBrokerAddress(this.config.MQTT_PUBLIC_URL ?? this.config.MQTT_URL), username: row.connection_id, password: this.passwordOf(row.id) };
    if (this.managed) {
      const sns = await this.boundSns(row.id);
      await this.ensureRole(row.id, sns);
      const existing = await this.command({ command: 'getClient', username: row.connection_id });
      if (existing.error) {
        if (!/not found/i.test(existing.error)) throw this.unavailable(existing.error);
        await this.commandOk({ command: 'createClient', username: row.connection_id, password: credentials.password, textname: row.id, roles: [{ rolename: roleOf(row.id) }] });
      } else if (!((existing.data?.client as { roles?: { rolename: string }[] } | undefined)?.roles ?? []).some((r) => r.rolename === roleOf(row.id))) {
        await this.commandOk({ command: 'addClientRole', username: row.connection_id, rolename: roleOf(row.id) });
      }
    }
    return credentials;
  }

  /** Ends a connection's broker access (its account is deleted and its clients disconnected). Safe to call after the connection row is gone. */
  async revoke(connection: string | { id: string }): Promise<void> {
    if (!this.managed) return;
    const connectionId = idOf(connection);
    const list = await this.commandOk({ command: 'listClients', verbose: true });
    const clients = (list.data?.clients ?? []) as { username: string; textname?: string; roles?: { rolename: string }[] }[];
    for (const client of clients) {
      if (client.textname === connectionId || client.roles?.some((r) => r.rolename === roleOf(connectionId))) {
        await this.commandOk({ command: 'deleteClient', username: client.username });
      }
    }
    const deleted = await this.command({ command: 'deleteRole', rolename: roleOf(connectionId) });
    if (deleted.error && !/not found/i.test(deleted.error)) throw this.unavailable(deleted.error);
  }

  /** Brings a connection's topic ACLs in step with its bound serial numbers (after binding, unbinding, topology). */
  async sync(connectionId: string | null | undefined): Promise<void> {
    if (!this.managed || !connectionId) return;
    try {
      await this.ensureRole(connectionId, await this.boundSns(connectionId));
    } catch (error) {
      this.logger.warn({ connectionId, err: (error as Error).message }, 'MQTT ACLs of the connection not updated');
    }
  }

  /** Sightline's own account may answer devices (status_reply, services) besides reading everything. */
  ensureServiceRole(): Promise<void> {
    if (!this.managed || !this.config.MQTT_USERNAME) return Promise.resolve();
    this.serviceRoleReady ??= (async () => {
      const acls = ['sys/product/+/status_reply', 'thing/product/+/services', 'thing/product/+/property/set'].map((topic) => ({
        acltype: 'publishClientSend',
        topic,
        allow: true,
      }));
      const role = await this.command({ command: 'getRole', rolename: SERVICE_ROLE });
      if (role.error) await this.commandOk({ command: 'createRole', rolename: SERVICE_ROLE, acls });
      const me = await this.commandOk({ command: 'getClient', username: this.config.MQTT_USERNAME });
      const roles = (me.data?.client as { roles?: { rolename: string }[] } | undefined)?.roles ?? [];
      // The broker disconnects a client whose roles change (so that its new rights apply): no answer comes, the connections come back.
      if (!roles.some((r) => r.rolename === SERVICE_ROLE)) await this.fire({ command: 'addClientRole', username: this.config.MQTT_USERNAME, rolename: SERVICE_ROLE });
    })().catch((error: Error) => {
      this.serviceRoleReady = undefined;
      throw error;
    });
    return this.serviceRoleReady;
  }

  private async boundSns(connectionId: string): Promise<string[]> {
    const rows: { sn: string }[] = await this.dataSource.query(`SELECT sn FROM drone_device WHERE connection_id = $1 AND workspace_id IS NOT NULL ORDER BY sn`, [connectionId]);
    return rows.map((r) => r.sn);
  }

  private async ensureRole(connectionId: string, sns: string[]): Promise<void> {
    const rolename = roleOf(connectionId);
    const wanted = aclsFor(sns);
    const role = await this.command({ command: 'getRole', rolename });
    if (role.error) {
      if (!/not found/i.test(role.error)) throw this.unavailable(role.error);
      const created = await this.command({ command: 'createRole', rolename, acls: wanted });
      if (!created.error || /already exists/i.test(created.error)) return;
      throw this.unavailable(created.error);
    }
    const have = (((role.data?.role as { acls?: unknown[] } | undefined)?.acls ?? []) as { acltype: string; topic: string }[]).map((a) => `${a.acltype} ${a.topic}`);
    const want = new Set(wanted.map((a) => `${a.acltype} ${a.topic}`));
    const commands: DynsecCommand[] = [];
    for (const a of wanted) if (!have.includes(`${a.acltype} ${a.topic}`)) commands.push({ command: 'addRoleACL', rolename, ...a });
    for (const key of have) {
      if (want.has(key)) continue;
      const [acltype, topic] = key.split(' ');
      commands.push({ command: 'removeRoleACL', rolename, acltype, topic });
    }
    if (commands.length) {
      const responses = await this.send(commands);
      const failed = responses.find((r) => r.error);
      if (failed) throw this.unavailable(failed.error!);
    }
  }

  private unavailable(message: string): ServiceUnavailableException {
    return new ServiceUnavailableException(`MQTT broker's dynamic security refused a change: ${message}`);
  }

  private async commandOk(command: DynsecCommand): Promise<DynsecResponse> {
    const r = await this.command(command);
    if (r.error) throw this.unavailable(`${command.command}: ${r.error}`);
    return r;
  }

  /** One command; sent again when the control connection dropped before its answer (the broker disconnects clients whose roles change). */
  private async command(command: DynsecCommand): Promise<DynsecResponse> {
    for (let attempt = 1; ; attempt++) {
      try {
        return (await this.send([command]))[0];
      } catch (error) {
        if (attempt >= 3 || !(error instanceof ControlConnectionLost)) throw error;
      }
    }
  }

  /** Sends a command whose answer may never come (it disconnects this client). */
  private async fire(command: DynsecCommand): Promise<void> {
    const client = await this.client();
    await client.publishAsync(CONTROL_TOPIC, JSON.stringify({ commands: [command] }), { qos: 1 });
  }

  /** Sends commands in one control message; resolves with their responses (in order). */
  private async send(commands: DynsecCommand[]): Promise<DynsecResponse[]> {
    const client = await this.client();
    const tagged = commands.map((c) => ({ ...c, correlationData: randomBytes(8).toString('hex') }));
    const answers = tagged.map(
      (c) =>
        new Promise<DynsecResponse>((resolve, reject) => {
          const timer = setTimeout(() => {
            this.pending.delete(c.correlationData);
            reject(
              new ServiceUnavailableException(
                `MQTT broker's dynamic security did not answer ${c.command} within 5 s (is the plugin loaded, is ${this.config.MQTT_USERNAME} its admin?)`,
              ),
            );
          }, 5000);
          this.pending.set(c.correlationData, {
            resolve: (r) => {
              clearTimeout(timer);
              resolve(r);
            },
            reject: (e) => {
              clearTimeout(timer);
              reject(e);
            },
          });
        }),
    );
    // Answers still pending when the publish fails (or the connection drops) must not reject unheard.
    for (const answer of answers) answer.catch(() => undefined);
    try {
      await client.publishAsync(CONTROL_TOPIC, JSON.stringify({ commands: tagged }), { qos: 1 });
    } catch (error) {
      for (const c of tagged) {
        this.pending.get(c.correlationData)?.reject(new ControlConnectionLost());
        this.pending.delete(c.correlationData);
      }
      throw error;
    }
    return Promise.all(answers);
  }

  private client(): Promise<MqttClient> {
    this.control ??= (async () => {
      const client = connect(this.config.MQTT_URL, {
        clientId: `sightline-control-${process.pid}-${randomBytes(3).toString('hex')}`,
        username: this.config.MQTT_USERNAME,
        password: this.config.MQTT_PASSWORD,
        reconnectPeriod: 2000,
        connectTimeout: 5000,
        protocolVersion: 5,
      });
      client.on('error', (error) => this.logger.warn({ err: error.message }, 'MQTT control connection error'));
      client.on('close', () => {
        const waiting = [...this.pending.values()];
        this.pending.clear();
        for (const w of waiting) w.reject(new ControlConnectionLost());
      });
      client.on('message', (_topic, payload) => {
        try {
          const body = JSON.parse(payload.toString('utf8')) as { responses?: DynsecResponse[] };
          for (const r of body.responses ?? []) {
            const waiting = r.correlationData ? this.pending.get(r.correlationData) : undefined;
            if (waiting) {
              this.pending.delete(r.correlationData!);
              waiting.resolve(r);
            }
          }
        } catch {
          // Not a control response.
        }
      });
      await new Promise<void>((resolve, reject) => {
        const timer = setTimeout(() => {
          client.end(true);
          reject(new ServiceUnavailableException(`MQTT broker at ${this.config.MQTT_URL} did not accept the control connection within 5 s`));
        }, 5000);
        client.once('connect', () => {
          clearTimeout(timer);
          resolve();
        });
      });
      await client.subscribeAsync(RESPONSE_TOPIC, { qos: 1 });
      return client;
    })().catch((error: Error) => {
      this.control = undefined;
      throw error;
    });
    return this.control;
  }

  async onApplicationShutdown(): Promise<void> {
    const control = this.control;
    this.control = undefined;
    if (control) await (await control.catch(() => undefined))?.endAsync(true);
  }
}

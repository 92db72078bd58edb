import { Injectable } from '@nestjs/common';
import { InjectRepository } from '@nestjs/typeorm';
import { createHash, randomBytes, scrypt as scryptCb, timingSafeEqual } from 'node:crypto';
import { promisify } from 'node:util';
import { LessThan, Repository } from 'typeorm';
import type { AuthUser } from '../auth/auth.types.js';
import { AppConfig } from '../config/app-config.js';
import { DroneConnection, DroneConnectionToken } from './connection.entity.js';
import { DroneWorkspacesService } from './workspaces.service.js';
import type { DroneWorkspace } from './workspace.entity.js';

const scrypt = promisify(scryptCb) as (password: string, salt: Buffer, keylen: number) => Promise<Buffer>;

/** Who calls a drone route with a connection's token (`x-auth-token`). */
export interface DroneCaller {
  /** drone_connection.id */
  connectionId: string;
  /** The public `connection_id` the pilot typed in. */
  connectionName: string;
  workspaceId: string;
  workspaceUuid: string;
  ownerId: string | null;
}

/** Token checks are cached this long: deleting a connection ends its tokens within a second. */
const CACHE_MS = 1000;
const sha256 = (s: string) => createHash('sha256').update(s).digest('hex');

/**
 * Pilot connections of a workspace: created with a secret shown once (stored as a scrypt hash),
 * exchanged at login for a token the DJI-compatible routes accept. Deleting a connection ends
 * its tokens (they cascade) and its devices' binding.
 */
@Injectable()
export class DroneConnectionsService {
  private readonly cache = new Map<string, { at: number; caller: DroneCaller | null }>();

  constructor(
    @InjectRepository(DroneConnection) private readonly connections: Repository<DroneConnection>,
    @InjectRepository(DroneConnectionToken) private readonly tokens: Repository<DroneConnectionToken>,
    private readonly workspaces: DroneWorkspacesService,
    private readonly config: AppConfig,
  ) {}

  list(workspace: DroneWorkspace): Promise<DroneConnection[]> {
    return this.connections.find({ where: { workspaceId: workspace.id }, order: { createdAt: 'ASC', id: 'ASC' } });
  }

  /** A new connection and its secret (returned only here). */
  async create(user: AuthUser, workspace: DroneWorkspace, name: string): Promise<{ connection: DroneConnection; secret: string }> {
    const secret = randomBytes(24).toString('base64url');
    const connection = await this.connections.save(
      this.connections.create({
        workspaceId: workspace.id,
        connectionId: `c-${randomBytes(9).toString('base64url').replace(/[-_]/g, 'x')}`,
        name,
        secretHash: await hashSecret(secret),
        createdBy: user.id,
      }),
    );
    return { connection, secret };
  }

  async find(workspace: DroneWorkspace, id: string): Promise<DroneConnection | null> {
    return /^[0-9a-f-]{36}$/i.test(id) ? this.connections.findOneBy({ id, workspaceId: workspace.id }) : null;
  }

  /** Deletes the connection: its tokens go with it, its devices are unbound. */
  async remove(connection: DroneConnection): Promise<void> {
    await this.connections.delete({ id: connection.id });
    this.cache.clear();
  }

  /**
   * Checks a pilot app's `connection_id` and secret; a token (valid DRONE_TOKEN_TTL_SECONDS) on
   * success, null otherwise (which of the two was wrong is not told).
   */
  async login(connectionId: string, secret: string): Promise<{ connection: DroneConnection; workspace: DroneWorkspace; token: string; expiresAt: Date } | null> {
    const connection = await this.connections.findOneBy({ connectionId });
    // A missing connection costs the same scrypt as a wrong secret.
    const ok = await verifySecret(secret, connection?.secretHash ?? DUMMY_HASH);
    if (!connection || !ok) return null;
    const workspace = await this.workspaces.byId(connection.workspaceId);
    if (!workspace) return null;
    const token = randomBytes(32).toString('base64url');
    const expiresAt = new Date(Date.now() + this.config.DRONE_TOKEN_TTL_SECONDS * 1000);
    await this.tokens.insert({ connectionId: connection.id, tokenHash: sha256(token), expiresAt });
    await this.connections.update({ id: connection.id }, { lastLoginAt: new Date() });
    // Expired tokens of the connection are dropped as new ones are handed out.
    await this.tokens.delete({ connectionId: connection.id, expiresAt: LessThan(new Date()) });
    return { connection, workspace, token, expiresAt };
  }

  /** The connection a token belongs to, with its workspace; null when unknown, expired or its connection is gone. */
  async authenticate(token: string): Promise<DroneCaller | null> {
    if (!token || token.length > 200) return null;
    const key = sha256(token);
    const hit = this.cache.get(key);
    if (hit && Date.now() - hit.at < CACHE_MS) return hit.caller;
    const row = await this.tokens
      .createQueryBuilder('t')
      .innerJoin(DroneConnection, 'c', 'c.id = t.connection_id')
      .innerJoin('drone_workspace', 'w', 'w.id = c.workspace_id')
      .select(['c.id AS connection_id', 'c.connection_id AS connection_name', 'w.id AS workspace_id', 'w.uuid AS workspace_uuid', 'w.owner_id AS owner_id'])
      .where('t.token_hash = :key AND t.expires_at > now()', { key })
      .getRawOne<{ connection_id: string; connection_name: string; workspace_id: string; workspace_uuid: string; owner_id: string | null }>();
    const caller: DroneCaller | null = row
      ? { connectionId: row.connection_id, connectionName: row.connection_name, workspaceId: row.workspace_id, workspaceUuid: row.workspace_uuid, ownerId: row.owner_id }
      : null;
    if (this.cache.size > 10_000) this.cache.clear();
    this.cache.set(key, { at: Date.now(), caller });
    return caller;
  }

  /** Whether the connection (by drone_connection.id) still exists. */
  async exists(connectionId: string): Promise<boolean> {
    return /^[0-9a-f-]{36}$/i.test(connectionId) && (await this.connections.existsBy({ id: connectionId }));
  }
}

const KEY_LENGTH = 32;
const DUMMY_HASH = `scrypt$${'00'.repeat(16)}$${'00'.repeat(KEY_LENGTH)}`;

async function hashSecret(secret: string): Promise<string> {
  const salt = randomBytes(16);
  return `scrypt$${salt.toString('hex')}$${(await scrypt(secret, salt, KEY_LENGTH)).toString('hex')}`;
}

async function verifySecret(secret: string, stored: string): Promise<boolean> {
  const [scheme, saltHex, hashHex] = stored.split('$');
  if (scheme !== 'scrypt' || !saltHex || !hashHex || typeof secret !== 'string' || secret.length > 200) return false;
  const actual = await scrypt(secret, Buffer.from(saltHex, 'hex'), KEY_LENGTH);
  return timingSafeEqual(actual, Buffer.from(hashHex, 'hex'));
}

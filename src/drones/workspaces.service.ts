import { Injectable, NotFoundException } from '@nestjs/common';
import { InjectRepository } from '@nestjs/typeorm';
import { randomUUID } from 'node:crypto';
import { Repository } from 'typeorm';
import type { AuthUser } from '../auth/auth.types.js';
import { point } from '../database/geometry.js';
import { DroneWorkspace } from './workspace.entity.js';

export interface WorkspaceDraft {
  name: string;
  description?: string;
  location?: { lon: number; lat: number } | null;
}

/** Workspaces: a person sees and edits only their own; administrators see every one. */
@Injectable()
export class DroneWorkspacesService {
  constructor(@InjectRepository(DroneWorkspace) private readonly workspaces: Repository<DroneWorkspace>) {}

  /** Whether `user` may see and manage the workspace (its owner, or an administrator). */
  static canAccess(user: AuthUser | undefined, workspace: Pick<DroneWorkspace, 'ownerId'>): boolean {
    return !!user && (user.role === 'admin' || workspace.ownerId === user.id);
  }

  /** The workspace if the caller may see it; 404 otherwise (another person's workspace is not revealed). */
  async get(user: AuthUser | undefined, id: string): Promise<DroneWorkspace> {
    const workspace = await this.byId(id);
    if (!workspace || !DroneWorkspacesService.canAccess(user, workspace)) throw new NotFoundException('Workspace not found');
    return workspace;
  }

  byId(id: string): Promise<DroneWorkspace | null> {
    return /^[0-9a-f-]{36}$/i.test(id) ? this.workspaces.findOneBy({ id }) : Promise.resolve(null);
  }

  /** By the id DJI's protocol uses (`workspace_id`, the `uuid` column); no access check. */
  byUuid(uuid: string): Promise<DroneWorkspace | null> {
    return /^[0-9a-f-]{36}$/i.test(uuid) ? this.workspaces.findOneBy({ uuid }) : Promise.resolve(null);
  }

  /** The caller's workspaces (every one for an administrator), newest first. */
  async list(user: AuthUser, page: { limit: number; offset: number }): Promise<{ items: DroneWorkspace[]; total: number }> {
    const [items, total] = await this.workspaces.findAndCount({
      where: user.role === 'admin' ? {} : { ownerId: user.id },
      order: { createdAt: 'DESC', id: 'ASC' },
      take: page.limit,
      skip: page.offset,
    });
    return { items, total };
  }

  create(user: AuthUser, draft: WorkspaceDraft): Promise<DroneWorkspace> {
    return this.workspaces.save(
      this.workspaces.create({
        uuid: randomUUID(),
        name: draft.name,
        description: draft.description ?? '',
        location: draft.location ? point(draft.location.lon, draft.location.lat) : null,
        ownerId: user.id,
      }),
    );
  }

  async update(user: AuthUser, id: string, patch: Partial<WorkspaceDraft>): Promise<DroneWorkspace> {
    const workspace = await this.get(user, id);
    if (patch.name !== undefined) workspace.name = patch.name;
    if (patch.description !== undefined) workspace.description = patch.description;
    if (patch.location !== undefined) workspace.location = patch.location ? point(patch.location.lon, patch.location.lat) : null;
    return this.workspaces.save(workspace);
  }

  /**
   * A new DJI workspace id: pilot apps configured with the old one must log in again. The
   * workspace's devices, flights and media stay.
   */
  async regenerateUuid(user: AuthUser, id: string): Promise<DroneWorkspace> {
    const workspace = await this.get(user, id);
    workspace.uuid = randomUUID();
    return this.workspaces.save(workspace);
  }

  /** Deletes the workspace with its connections, flights and media rows (their files are the media domain's to purge). */
  async remove(user: AuthUser, id: string): Promise<DroneWorkspace> {
    const workspace = await this.get(user, id);
    await this.workspaces.delete({ id: workspace.id });
    return workspace;
  }
}

/** Every BullMQ queue of the system. Workers may be started for a subset (WORKER_QUEUES). */
export enum QueueName {
  Pictures = 'pictures',
  Dispatch = 'dispatch',
  Datasets = 'datasets',
  Management = 'management',
  Maintenance = 'maintenance',
  Harvest = 'harvest',
}

/** Every job of the system; each has exactly one handler (checked when the worker starts). */
export enum JobName {
  StorageCleanupTemp = 'storage.cleanup-temp',
  ManagementRun = 'management.run',
  DatasetIngest = 'datasets.ingest',
  CollectionsPurgeFiles = 'collections.purge-files',
  MapRefreshGrid = 'map.refresh-grid',
  PictureProcess = 'picture.process',
  PictureDelete = 'picture.delete',
  UploadSetDispatch = 'upload-set.dispatch',
  UploadSetFinalize = 'upload-set.finalize',
  UploadSetDelete = 'upload-set.delete',
  HarvestRun = 'harvest.run',
}

/** The payload of each job. */
export interface JobPayloads {
  [JobName.StorageCleanupTemp]: { maxAgeSeconds?: number };
  /** One run (attempt) of a management job; the job row holds the command and its arguments. */
  [JobName.ManagementRun]: { jobId: string; attempt: number };
  /** Reads a registered raster (hash, header, footprint, statistics); `revision` is the dataset's. */
  [JobName.DatasetIngest]: { datasetId: string; revision: number };
  /** Removes the files of every pending `file_purge` row (one row when `purgeId` is given). */
  [JobName.CollectionsPurgeFiles]: { purgeId?: string };
  /** Recounts the grid cells marked dirty (`full`: rebuilds the whole grid). */
  [JobName.MapRefreshGrid]: { full?: boolean };
  /** Blur (when needed), then derivatives, then `ready`; `generation` rises on every reprocessing. */
  [JobName.PictureProcess]: { pictureId: string; generation: number };
  /** Removes a rejected or deleted picture's files, then its row. */
  [JobName.PictureDelete]: { pictureId: string };
  /** Sorts, splits and de-duplicates a completed upload set into sequences. */
  [JobName.UploadSetDispatch]: { uploadSetId: string; generation: number };
  /** Headings, geometry, extents and status of the sequences of a set whose pictures are all processed. */
  [JobName.UploadSetFinalize]: { uploadSetId: string; round: number };
  /** Removes a deleted upload set's pictures, files and sequences, then the set. */
  [JobName.UploadSetDelete]: { uploadSetId: string };
  /** One harvesting session (check, discover, harvest or clear); the session row holds what to do. */
  [JobName.HarvestRun]: { sessionId: string };
}

export interface JobDefinition<N extends JobName> {
  queue: QueueName;
  /**
   * Deterministic job id: adding a job whose id is already queued is a no-op, which makes
   * producers and the reconciler safe to run repeatedly. Undefined = BullMQ picks one.
   */
  id?: (payload: JobPayloads[N]) => string;
  /** Attempts before the job is failed for good (default JOB_ATTEMPTS). */
  attempts?: number;
  /**
   * The jobs its handler may add (follow-ups), `'any'` for jobs that run arbitrary commands.
   * Checked when a job adds another (JobQueueService): an undeclared follow-up is an error
   * outside production and a logged warning in it. Reconcilers and requests add what they need.
   */
  followUps?: readonly JobName[] | 'any';
}

export const JOBS: { [N in JobName]: JobDefinition<N> } = {
  [JobName.StorageCleanupTemp]: { queue: QueueName.Maintenance, attempts: 1 },
  // Retries here only cover failures before the run is claimed (database briefly away); the
  // outcome of the command itself is recorded in the management_job row, never retried by BullMQ.
  [JobName.ManagementRun]: { queue: QueueName.Management, id: (p) => safeJobId('management', p.jobId, p.attempt), attempts: 3, followUps: 'any' },
  [JobName.DatasetIngest]: { queue: QueueName.Datasets, id: (p) => safeJobId('datasets.ingest', p.datasetId, p.revision) },
  // Producers of one purge set the id `purge-files__<purgeId>`; the reconciler's sweeps have none.
  [JobName.CollectionsPurgeFiles]: { queue: QueueName.Maintenance },
  [JobName.MapRefreshGrid]: { queue: QueueName.Maintenance, attempts: 1 },
  // A processed, broken or rejected picture: its source may finalise its batch (an upload set's finalize).
  [JobName.PictureProcess]: {
    queue: QueueName.Pictures,
    id: (p) => safeJobId('picture', p.pictureId, p.generation),
    followUps: [JobName.PictureDelete, JobName.UploadSetFinalize],
  },
  [JobName.PictureDelete]: { queue: QueueName.Pictures, id: (p) => safeJobId('picture-delete', p.pictureId) },
  // Capture duplicates' files go; a set whose pictures are all processed finalises at once.
  [JobName.UploadSetDispatch]: {
    queue: QueueName.Dispatch,
    id: (p) => safeJobId('dispatch', p.uploadSetId, p.generation),
    followUps: [JobName.PictureDelete, JobName.UploadSetFinalize],
  },
  [JobName.UploadSetFinalize]: { queue: QueueName.Dispatch, id: (p) => safeJobId('finalize', p.uploadSetId, p.round) },
  [JobName.UploadSetDelete]: { queue: QueueName.Dispatch, id: (p) => safeJobId('upload-set-delete', p.uploadSetId) },
  // The session's outcome is recorded on its row; a worker that dies leaves it to the heartbeat sweep, never to a retry.
  [JobName.HarvestRun]: { queue: QueueName.Harvest, id: (p) => safeJobId('harvest', p.sessionId), attempts: 1 },
};

export interface JobSchedule<N extends JobName = JobName> {
  /** Stable id of the scheduler in Redis. */
  id: string;
  name: N;
  payload: JobPayloads[N];
  /** Cron pattern, or `every` milliseconds. */
  pattern?: string;
  every?: number;
}

/** BullMQ forbids `:` in custom ids; keep ids readable and safe. */
export function safeJobId(...parts: (string | number)[]): string {
  return parts.map((p) => String(p).replace(/[^A-Za-z0-9_.-]/g, '_')).join('__');
}

import { Column, CreateDateColumn, Entity, PrimaryGeneratedColumn } from 'typeorm';

/**
 * Files still to remove after items or collections were deleted. The rows go at once; their
 * files are removed by the `collections.purge-files` job, and this table is what the
 * reconciler reads to re-enqueue a purge a lost job left unfinished.
 */
@Entity('file_purge')
export class FilePurge {
  @PrimaryGeneratedColumn('uuid')
  id: string;

  /** Why (for the logs): `collection <id> deleted`, `item <id> deleted`. */
  @Column({ type: 'text' })
  reason: string;

  /** Deleted items whose folder (`itemPrefixes`, same position) goes unless an item with that id exists again. */
  @Column({ type: 'uuid', array: true, default: () => "'{}'" })
  itemIds: string[];

  /** The storage folder of each of `itemIds`, as its source named it. */
  @Column({ type: 'text', array: true, default: () => "'{}'" })
  itemPrefixes: string[];

  /** Further storage prefixes the sources asked to remove with the rows. */
  @Column({ type: 'text', array: true, default: () => "'{}'" })
  prefixes: string[];

  @Column({ type: 'integer', default: 0 })
  attempts: number;

  @CreateDateColumn({ type: 'timestamptz' })
  createdAt: Date;
}

import { MigrationInterface, QueryRunner } from "typeorm";

export class CollectionsFilesAndMapGrid1763800006000 implements MigrationInterface {
    name = 'CollectionsFilesAndMapGrid1763800006000'

    public async up(queryRunner: QueryRunner): Promise<void> {
        await queryRunner.query(`
            CREATE TABLE "file_purge" (
                "id" uuid NOT NULL DEFAULT gen_random_uuid(),
                "reason" text NOT NULL,
                "item_ids" uuid array NOT NULL DEFAULT '{}',
                "prefixes" text array NOT NULL DEFAULT '{}',
                "attempts" integer NOT NULL DEFAULT '0',
                "created_at" TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT now(),
                CONSTRAINT "pk_file_purge_id" PRIMARY KEY ("id")
            )
        `);
        await queryRunner.query(`
            CREATE TABLE "map_grid" (
                "x" integer NOT NULL,
                "y" integer NOT NULL,
                "count" integer NOT NULL,
                "updated_at" TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT now(),
                CONSTRAINT "pk_map_grid_x_y" PRIMARY KEY ("x", "y")
            )
        `);
        await queryRunner.query(`
            CREATE TABLE "map_grid_dirty" (
                "id" BIGSERIAL NOT NULL,
                "x" integer NOT NULL,
                "y" integer NOT NULL,
                "created_at" TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT now(),
                CONSTRAINT "pk_map_grid_dirty_id" PRIMARY KEY ("id")
            )
        `);
    }

    public async down(queryRunner: QueryRunner): Promise<void> {
        await queryRunner.query(`
            DROP TABLE "map_grid_dirty"
        `);
        await queryRunner.query(`
            DROP TABLE "map_grid"
        `);
        await queryRunner.query(`
            DROP TABLE "file_purge"
        `);
    }

}

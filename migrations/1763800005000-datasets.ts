import { MigrationInterface, QueryRunner } from "typeorm";

export class Datasets1763800005000 implements MigrationInterface {
    name = 'Datasets1763800005000'

    public async up(queryRunner: QueryRunner): Promise<void> {
        await queryRunner.query(`
            CREATE TABLE "dataset" (
                "id" uuid NOT NULL,
                "status" character varying(16) NOT NULL DEFAULT 'pending',
                "error" text,
                "revision" integer NOT NULL DEFAULT '1',
                "source" character varying(16) NOT NULL,
                "storage_key" text,
                "file_path" text,
                "file_name" text NOT NULL,
                "title" text NOT NULL,
                "description" text,
                "size" bigint,
                "sha256" character varying(64),
                "file_modified_at" TIMESTAMP WITH TIME ZONE,
                "allow_duplicate" boolean NOT NULL DEFAULT false,
                "crs" character varying(32),
                "width" integer,
                "height" integer,
                "band_count" integer,
                "is_cog" boolean NOT NULL DEFAULT false,
                "raster" jsonb,
                "ingested_at" TIMESTAMP WITH TIME ZONE,
                "ingest_ms" integer,
                "created_at" TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT now(),
                "updated_at" TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT now(),
                CONSTRAINT "pk_dataset_id" PRIMARY KEY ("id")
            )
        `);
        await queryRunner.query(`
            CREATE INDEX "ix_dataset_status_updated_at" ON "dataset" ("status", "updated_at")
        `);
        await queryRunner.query(`
            CREATE INDEX "ix_dataset_file_path" ON "dataset" ("file_path")
        `);
        await queryRunner.query(`
            CREATE INDEX "ix_dataset_sha256" ON "dataset" ("sha256")
        `);
        await queryRunner.query(`
            ALTER TABLE "dataset"
            ADD CONSTRAINT "fk_dataset_id" FOREIGN KEY ("id") REFERENCES "item"("id") ON DELETE CASCADE ON UPDATE NO ACTION
        `);
    }

    public async down(queryRunner: QueryRunner): Promise<void> {
        await queryRunner.query(`
            ALTER TABLE "dataset" DROP CONSTRAINT "fk_dataset_id"
        `);
        await queryRunner.query(`
            DROP INDEX "public"."ix_dataset_sha256"
        `);
        await queryRunner.query(`
            DROP INDEX "public"."ix_dataset_file_path"
        `);
        await queryRunner.query(`
            DROP INDEX "public"."ix_dataset_status_updated_at"
        `);
        await queryRunner.query(`
            DROP TABLE "dataset"
        `);
    }

}

import { MigrationInterface, QueryRunner } from "typeorm";

export class PictureSchema1763800002000 implements MigrationInterface {
    name = 'PictureSchema1763800002000'

    public async up(queryRunner: QueryRunner): Promise<void> {
        await queryRunner.query(`
            CREATE TABLE "upload_set" (
                "id" uuid NOT NULL DEFAULT gen_random_uuid(),
                "owner_id" uuid NOT NULL,
                "title" text NOT NULL,
                "estimated_nb_files" integer,
                "sort_method" character varying(16) NOT NULL DEFAULT 'time-asc',
                "no_split" boolean NOT NULL DEFAULT false,
                "split_distance" double precision,
                "split_time" double precision,
                "no_deduplication" boolean NOT NULL DEFAULT false,
                "duplicate_distance" double precision,
                "duplicate_rotation" double precision,
                "relative_heading" double precision NOT NULL DEFAULT '0',
                "visibility" character varying(16) NOT NULL DEFAULT 'anyone',
                "metadata" jsonb NOT NULL DEFAULT '{}',
                "status" character varying(16) NOT NULL DEFAULT 'open',
                "completed_at" TIMESTAMP WITH TIME ZONE,
                "dispatch_generation" integer NOT NULL DEFAULT '0',
                "dispatched_generation" integer NOT NULL DEFAULT '0',
                "dispatched_at" TIMESTAMP WITH TIME ZONE,
                "finalize_round" integer NOT NULL DEFAULT '0',
                "finalized_round" integer NOT NULL DEFAULT '0',
                "finalized_at" TIMESTAMP WITH TIME ZONE,
                "user_agent" text,
                "created_at" TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT now(),
                "updated_at" TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT now(),
                CONSTRAINT "pk_upload_set_id" PRIMARY KEY ("id")
            )
        `);
        await queryRunner.query(`
            CREATE INDEX "ix_upload_set_status" ON "upload_set" ("status")
        `);
        await queryRunner.query(`
            CREATE INDEX "ix_upload_set_created_at_owner_id" ON "upload_set" ("owner_id", "created_at")
        `);
        await queryRunner.query(`
            CREATE TABLE "picture" (
                "id" uuid NOT NULL,
                "upload_set_id" uuid NOT NULL,
                "owner_id" uuid,
                "status" character varying(16) NOT NULL DEFAULT 'pending',
                "file_name" text NOT NULL,
                "size" bigint NOT NULL,
                "sha256" character varying(64) NOT NULL,
                "source_key" text,
                "hd_stored_at" TIMESTAMP WITH TIME ZONE,
                "is_blurred" boolean NOT NULL DEFAULT false,
                "blurred" boolean NOT NULL DEFAULT false,
                "blur_metadata" jsonb,
                "width" integer NOT NULL,
                "height" integer NOT NULL,
                "orientation" smallint NOT NULL DEFAULT '1',
                "projection" character varying(16) NOT NULL DEFAULT 'perspective',
                "captured_at" TIMESTAMP WITH TIME ZONE NOT NULL,
                "gps_time" TIMESTAMP WITH TIME ZONE,
                "camera_time" TIMESTAMP WITH TIME ZONE,
                "geom" geometry(Point, 4326) NOT NULL,
                "heading" double precision,
                "metadata" jsonb NOT NULL DEFAULT '{}',
                "sequence_id" uuid,
                "rank" integer,
                "process_generation" integer NOT NULL DEFAULT '1',
                "attempts" integer NOT NULL DEFAULT '0',
                "last_error" text,
                "processing_started_at" TIMESTAMP WITH TIME ZONE,
                "processed_at" TIMESTAMP WITH TIME ZONE,
                "ready_count" integer NOT NULL DEFAULT '0',
                "created_at" TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT now(),
                "updated_at" TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT now(),
                CONSTRAINT "pk_picture_id" PRIMARY KEY ("id")
            )
        `);
        await queryRunner.query(`
            CREATE UNIQUE INDEX "ix_picture_sha256" ON "picture" ("sha256")
        `);
        await queryRunner.query(`
            CREATE INDEX "ix_picture_rank_sequence_id" ON "picture" ("sequence_id", "rank")
        `);
        await queryRunner.query(`
            CREATE INDEX "ix_picture_status_updated_at" ON "picture" ("status", "updated_at")
        `);
        await queryRunner.query(`
            CREATE INDEX "ix_picture_status_upload_set_id" ON "picture" ("upload_set_id", "status")
        `);
        await queryRunner.query(`
            CREATE TABLE "upload_file" (
                "id" uuid NOT NULL DEFAULT gen_random_uuid(),
                "upload_set_id" uuid NOT NULL,
                "file_name" text NOT NULL,
                "size" bigint,
                "sha256" character varying(64),
                "picture_id" uuid,
                "rejection_reason" character varying(32),
                "rejection_severity" character varying(16),
                "rejection_message" text,
                "rejection_details" jsonb,
                "created_at" TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT now(),
                "updated_at" TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT now(),
                CONSTRAINT "pk_upload_file_id" PRIMARY KEY ("id")
            )
        `);
        await queryRunner.query(`
            CREATE INDEX "ix_upload_file_picture_id" ON "upload_file" ("picture_id")
        `);
        await queryRunner.query(`
            CREATE UNIQUE INDEX "ix_upload_file_file_name_upload_set_id" ON "upload_file" ("upload_set_id", "file_name")
        `);
        await queryRunner.query(`
            ALTER TABLE "upload_set"
            ADD CONSTRAINT "fk_upload_set_owner_id" FOREIGN KEY ("owner_id") REFERENCES "users"("id") ON DELETE CASCADE ON UPDATE NO ACTION
        `);
        await queryRunner.query(`
            ALTER TABLE "picture"
            ADD CONSTRAINT "fk_picture_upload_set_id" FOREIGN KEY ("upload_set_id") REFERENCES "upload_set"("id") ON DELETE CASCADE ON UPDATE NO ACTION
        `);
        await queryRunner.query(`
            ALTER TABLE "picture"
            ADD CONSTRAINT "fk_picture_owner_id" FOREIGN KEY ("owner_id") REFERENCES "users"("id") ON DELETE
            SET NULL ON UPDATE NO ACTION
        `);
        await queryRunner.query(`
            ALTER TABLE "picture"
            ADD CONSTRAINT "fk_picture_sequence_id" FOREIGN KEY ("sequence_id") REFERENCES "collection"("id") ON DELETE
            SET NULL ON UPDATE NO ACTION
        `);
        await queryRunner.query(`
            ALTER TABLE "upload_file"
            ADD CONSTRAINT "fk_upload_file_upload_set_id" FOREIGN KEY ("upload_set_id") REFERENCES "upload_set"("id") ON DELETE CASCADE ON UPDATE NO ACTION
        `);
        await queryRunner.query(`
            ALTER TABLE "upload_file"
            ADD CONSTRAINT "fk_upload_file_picture_id" FOREIGN KEY ("picture_id") REFERENCES "picture"("id") ON DELETE
            SET NULL ON UPDATE NO ACTION
        `);
    }

    public async down(queryRunner: QueryRunner): Promise<void> {
        await queryRunner.query(`
            ALTER TABLE "upload_file" DROP CONSTRAINT "fk_upload_file_picture_id"
        `);
        await queryRunner.query(`
            ALTER TABLE "upload_file" DROP CONSTRAINT "fk_upload_file_upload_set_id"
        `);
        await queryRunner.query(`
            ALTER TABLE "picture" DROP CONSTRAINT "fk_picture_sequence_id"
        `);
        await queryRunner.query(`
            ALTER TABLE "picture" DROP CONSTRAINT "fk_picture_owner_id"
        `);
        await queryRunner.query(`
            ALTER TABLE "picture" DROP CONSTRAINT "fk_picture_upload_set_id"
        `);
        await queryRunner.query(`
            ALTER TABLE "upload_set" DROP CONSTRAINT "fk_upload_set_owner_id"
        `);
        await queryRunner.query(`
            DROP INDEX "public"."ix_upload_file_file_name_upload_set_id"
        `);
        await queryRunner.query(`
            DROP INDEX "public"."ix_upload_file_picture_id"
        `);
        await queryRunner.query(`
            DROP TABLE "upload_file"
        `);
        await queryRunner.query(`
            DROP INDEX "public"."ix_picture_status_upload_set_id"
        `);
        await queryRunner.query(`
            DROP INDEX "public"."ix_picture_status_updated_at"
        `);
        await queryRunner.query(`
            DROP INDEX "public"."ix_picture_rank_sequence_id"
        `);
        await queryRunner.query(`
            DROP INDEX "public"."ix_picture_sha256"
        `);
        await queryRunner.query(`
            DROP TABLE "picture"
        `);
        await queryRunner.query(`
            DROP INDEX "public"."ix_upload_set_created_at_owner_id"
        `);
        await queryRunner.query(`
            DROP INDEX "public"."ix_upload_set_status"
        `);
        await queryRunner.query(`
            DROP TABLE "upload_set"
        `);
    }

}

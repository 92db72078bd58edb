import { MigrationInterface, QueryRunner } from "typeorm";

/** Harvesters: remote catalogs, their harvestable resources, sessions with per-record results and logs, the record ↔ item map and the validators of remote files. */
export class Harvesters1763800009000 implements MigrationInterface {
    name = 'Harvesters1763800009000'

    public async up(queryRunner: QueryRunner): Promise<void> {
        await queryRunner.query(`
            CREATE TABLE "harvester" (
                "id" uuid NOT NULL DEFAULT gen_random_uuid(),
                "name" text NOT NULL,
                "type" character varying(32) NOT NULL,
                "url" text NOT NULL,
                "config" jsonb NOT NULL DEFAULT '{}',
                "owner_id" uuid,
                "visibility" character varying(16) NOT NULL DEFAULT 'anyone',
                "enabled" boolean NOT NULL DEFAULT true,
                "schedule" jsonb NOT NULL DEFAULT '{}',
                "deletion_policy" character varying(8) NOT NULL DEFAULT 'delete',
                "deletion_grace_runs" integer NOT NULL DEFAULT '2',
                "mass_delete_max_percent" integer NOT NULL DEFAULT '20',
                "asset_mode" character varying(8) NOT NULL DEFAULT 'link',
                "disable_after_failures" integer NOT NULL DEFAULT '5',
                "consecutive_failures" integer NOT NULL DEFAULT '0',
                "disabled_reason" text,
                "availability" character varying(12) NOT NULL DEFAULT 'unknown',
                "availability_message" text,
                "last_checked_at" TIMESTAMP WITH TIME ZONE,
                "last_discovered_at" TIMESTAMP WITH TIME ZONE,
                "last_harvested_at" TIMESTAMP WITH TIME ZONE,
                "next_check_at" TIMESTAMP WITH TIME ZONE,
                "next_discover_at" TIMESTAMP WITH TIME ZONE,
                "next_harvest_at" TIMESTAMP WITH TIME ZONE,
                "created_by" uuid,
                "created_at" TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT now(),
                "updated_at" TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT now(),
                CONSTRAINT "pk_harvester_id" PRIMARY KEY ("id")
            )
        `);
        await queryRunner.query(`
            CREATE UNIQUE INDEX "ix_harvester_name" ON "harvester" ("name")
        `);
        await queryRunner.query(`
            CREATE TABLE "harvestable_resource" (
                "id" uuid NOT NULL DEFAULT gen_random_uuid(),
                "harvester_id" uuid NOT NULL,
                "remote_id" text NOT NULL,
                "title" text NOT NULL,
                "type" character varying(32) NOT NULL,
                "remote_url" text,
                "selected" boolean NOT NULL DEFAULT false,
                "status" character varying(12) NOT NULL DEFAULT 'available',
                "description" jsonb NOT NULL DEFAULT '{}',
                "last_seen_at" TIMESTAMP WITH TIME ZONE,
                "missing_since" TIMESTAMP WITH TIME ZONE,
                "last_harvested_at" TIMESTAMP WITH TIME ZONE,
                "last_result" jsonb,
                "collection_id" uuid,
                "watermark" text,
                "last_full_listing_at" TIMESTAMP WITH TIME ZONE,
                "created_at" TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT now(),
                "updated_at" TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT now(),
                CONSTRAINT "pk_harvestable_resource_id" PRIMARY KEY ("id")
            )
        `);
        await queryRunner.query(`
            CREATE UNIQUE INDEX "ix_harvestable_resource_harvester_id_remote_id" ON "harvestable_resource" ("harvester_id", "remote_id")
        `);
        await queryRunner.query(`
            CREATE TABLE "harvest_session" (
                "id" uuid NOT NULL DEFAULT gen_random_uuid(),
                "harvester_id" uuid NOT NULL,
                "type" character varying(12) NOT NULL,
                "trigger" character varying(12) NOT NULL,
                "requested_by" uuid,
                "status" character varying(20) NOT NULL DEFAULT 'queued',
                "dry_run" boolean NOT NULL DEFAULT false,
                "options" jsonb NOT NULL DEFAULT '{}',
                "counters" jsonb NOT NULL DEFAULT '{}',
                "result" jsonb,
                "error" text,
                "runner" text,
                "heartbeat_at" TIMESTAMP WITH TIME ZONE,
                "cancel_requested_at" TIMESTAMP WITH TIME ZONE,
                "started_at" TIMESTAMP WITH TIME ZONE,
                "ended_at" TIMESTAMP WITH TIME ZONE,
                "created_at" TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT now(),
                "updated_at" TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT now(),
                CONSTRAINT "pk_harvest_session_id" PRIMARY KEY ("id")
            )
        `);
        await queryRunner.query(`
            CREATE UNIQUE INDEX "ux_harvest_session_active" ON "harvest_session" ("harvester_id") WHERE "status" IN ('queued', 'running', 'cancelling')
        `);
        await queryRunner.query(`
            CREATE INDEX "ix_harvest_session_heartbeat_at_status" ON "harvest_session" ("status", "heartbeat_at")
        `);
        await queryRunner.query(`
            CREATE INDEX "ix_harvest_session_created_at_harvester_id" ON "harvest_session" ("harvester_id", "created_at")
        `);
        await queryRunner.query(`
            CREATE TABLE "harvested_record" (
                "id" uuid NOT NULL,
                "harvester_id" uuid NOT NULL,
                "resource_id" uuid NOT NULL,
                "remote_id" text NOT NULL,
                "content_hash" character varying(64) NOT NULL,
                "remote_updated" text,
                "missing_runs" integer NOT NULL DEFAULT '0',
                "hidden" boolean NOT NULL DEFAULT false,
                "last_session_id" uuid,
                "created_at" TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT now(),
                "updated_at" TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT now(),
                CONSTRAINT "pk_harvested_record_id" PRIMARY KEY ("id")
            )
        `);
        await queryRunner.query(`
            CREATE INDEX "ix_harvested_record_harvester_id_missing_runs" ON "harvested_record" ("harvester_id", "missing_runs")
        `);
        await queryRunner.query(`
            CREATE UNIQUE INDEX "ix_harvested_record_remote_id_resource_id" ON "harvested_record" ("resource_id", "remote_id")
        `);
        await queryRunner.query(`
            CREATE TABLE "harvest_validator" (
                "harvester_id" uuid NOT NULL,
                "url" text NOT NULL,
                "etag" text,
                "last_modified" text,
                "remote_id" text,
                "data" jsonb,
                "updated_at" TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT now(),
                CONSTRAINT "pk_harvest_validator_harvester_id_url" PRIMARY KEY ("harvester_id", "url")
            )
        `);
        await queryRunner.query(`
            CREATE TABLE "harvest_session_record" (
                "id" BIGSERIAL NOT NULL,
                "session_id" uuid NOT NULL,
                "resource_id" uuid,
                "remote_id" text NOT NULL,
                "action" character varying(12) NOT NULL,
                "item_id" uuid,
                "content_hash" character varying(64),
                "remote_updated" text,
                "error" text,
                "stage" character varying(12),
                "at" TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT now(),
                CONSTRAINT "pk_harvest_session_record_id" PRIMARY KEY ("id")
            )
        `);
        await queryRunner.query(`
            CREATE INDEX "ix_harvest_session_record_action_session_id" ON "harvest_session_record" ("session_id", "action")
        `);
        await queryRunner.query(`
            CREATE INDEX "ix_harvest_session_record_id_session_id" ON "harvest_session_record" ("session_id", "id")
        `);
        await queryRunner.query(`
            CREATE TABLE "harvest_session_log" (
                "id" BIGSERIAL NOT NULL,
                "session_id" uuid NOT NULL,
                "level" character varying(8) NOT NULL DEFAULT 'info',
                "message" text NOT NULL,
                "at" TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT now(),
                CONSTRAINT "pk_harvest_session_log_id" PRIMARY KEY ("id")
            )
        `);
        await queryRunner.query(`
            CREATE INDEX "ix_harvest_session_log_id_session_id" ON "harvest_session_log" ("session_id", "id")
        `);
        await queryRunner.query(`
            ALTER TABLE "harvester"
            ADD CONSTRAINT "fk_harvester_owner_id" FOREIGN KEY ("owner_id") REFERENCES "users"("id") ON DELETE
            SET NULL ON UPDATE NO ACTION
        `);
        await queryRunner.query(`
            ALTER TABLE "harvestable_resource"
            ADD CONSTRAINT "fk_harvestable_resource_harvester_id" FOREIGN KEY ("harvester_id") REFERENCES "harvester"("id") ON DELETE CASCADE ON UPDATE NO ACTION
        `);
        await queryRunner.query(`
            ALTER TABLE "harvest_session"
            ADD CONSTRAINT "fk_harvest_session_harvester_id" FOREIGN KEY ("harvester_id") REFERENCES "harvester"("id") ON DELETE CASCADE ON UPDATE NO ACTION
        `);
        await queryRunner.query(`
            ALTER TABLE "harvested_record"
            ADD CONSTRAINT "fk_harvested_record_id" FOREIGN KEY ("id") REFERENCES "item"("id") ON DELETE CASCADE ON UPDATE NO ACTION
        `);
        await queryRunner.query(`
            ALTER TABLE "harvested_record"
            ADD CONSTRAINT "fk_harvested_record_resource_id" FOREIGN KEY ("resource_id") REFERENCES "harvestable_resource"("id") ON DELETE CASCADE ON UPDATE NO ACTION
        `);
        await queryRunner.query(`
            ALTER TABLE "harvest_validator"
            ADD CONSTRAINT "fk_harvest_validator_harvester_id" FOREIGN KEY ("harvester_id") REFERENCES "harvester"("id") ON DELETE CASCADE ON UPDATE NO ACTION
        `);
        await queryRunner.query(`
            ALTER TABLE "harvest_session_record"
            ADD CONSTRAINT "fk_harvest_session_record_session_id" FOREIGN KEY ("session_id") REFERENCES "harvest_session"("id") ON DELETE CASCADE ON UPDATE NO ACTION
        `);
        await queryRunner.query(`
            ALTER TABLE "harvest_session_log"
            ADD CONSTRAINT "fk_harvest_session_log_session_id" FOREIGN KEY ("session_id") REFERENCES "harvest_session"("id") ON DELETE CASCADE ON UPDATE NO ACTION
        `);
    }

    public async down(queryRunner: QueryRunner): Promise<void> {
        await queryRunner.query(`DROP INDEX "public"."ux_harvest_session_active"`);
        await queryRunner.query(`
            ALTER TABLE "harvest_session_log" DROP CONSTRAINT "fk_harvest_session_log_session_id"
        `);
        await queryRunner.query(`
            ALTER TABLE "harvest_session_record" DROP CONSTRAINT "fk_harvest_session_record_session_id"
        `);
        await queryRunner.query(`
            ALTER TABLE "harvest_validator" DROP CONSTRAINT "fk_harvest_validator_harvester_id"
        `);
        await queryRunner.query(`
            ALTER TABLE "harvested_record" DROP CONSTRAINT "fk_harvested_record_resource_id"
        `);
        await queryRunner.query(`
            ALTER TABLE "harvested_record" DROP CONSTRAINT "fk_harvested_record_id"
        `);
        await queryRunner.query(`
            ALTER TABLE "harvest_session" DROP CONSTRAINT "fk_harvest_session_harvester_id"
        `);
        await queryRunner.query(`
            ALTER TABLE "harvestable_resource" DROP CONSTRAINT "fk_harvestable_resource_harvester_id"
        `);
        await queryRunner.query(`
            ALTER TABLE "harvester" DROP CONSTRAINT "fk_harvester_owner_id"
        `);
        await queryRunner.query(`
            DROP INDEX "public"."ix_harvest_session_log_id_session_id"
        `);
        await queryRunner.query(`
            DROP TABLE "harvest_session_log"
        `);
        await queryRunner.query(`
            DROP INDEX "public"."ix_harvest_session_record_id_session_id"
        `);
        await queryRunner.query(`
            DROP INDEX "public"."ix_harvest_session_record_action_session_id"
        `);
        await queryRunner.query(`
            DROP TABLE "harvest_session_record"
        `);
        await queryRunner.query(`
            DROP TABLE "harvest_validator"
        `);
        await queryRunner.query(`
            DROP INDEX "public"."ix_harvested_record_remote_id_resource_id"
        `);
        await queryRunner.query(`
            DROP INDEX "public"."ix_harvested_record_harvester_id_missing_runs"
        `);
        await queryRunner.query(`
            DROP TABLE "harvested_record"
        `);
        await queryRunner.query(`
            DROP INDEX "public"."ix_harvest_session_created_at_harvester_id"
        `);
        await queryRunner.query(`
            DROP INDEX "public"."ix_harvest_session_heartbeat_at_status"
        `);
        await queryRunner.query(`
            DROP TABLE "harvest_session"
        `);
        await queryRunner.query(`
            DROP INDEX "public"."ix_harvestable_resource_harvester_id_remote_id"
        `);
        await queryRunner.query(`
            DROP TABLE "harvestable_resource"
        `);
        await queryRunner.query(`
            DROP INDEX "public"."ix_harvester_name"
        `);
        await queryRunner.query(`
            DROP TABLE "harvester"
        `);
    }

}

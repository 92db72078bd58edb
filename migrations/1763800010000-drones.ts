import { MigrationInterface, QueryRunner } from "typeorm";

/** Drones: workspaces, pilot connections and their tokens, devices with their last state, flights with their tracks and track points, media deduplicated by fingerprint. */
export class Drones1763800010000 implements MigrationInterface {
    name = 'Drones1763800010000'

    public async up(queryRunner: QueryRunner): Promise<void> {
        await queryRunner.query(`
            CREATE TABLE "drone_connection" (
                "id" uuid NOT NULL DEFAULT gen_random_uuid(),
                "workspace_id" uuid NOT NULL,
                "connection_id" character varying(64) NOT NULL,
                "name" text NOT NULL,
                "secret_hash" text NOT NULL,
                "created_by" uuid,
                "created_at" TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT now(),
                "last_login_at" TIMESTAMP WITH TIME ZONE,
                CONSTRAINT "pk_drone_connection_id" PRIMARY KEY ("id")
            )
        `);
        await queryRunner.query(`
            CREATE INDEX "ix_drone_connection_workspace_id" ON "drone_connection" ("workspace_id")
        `);
        await queryRunner.query(`
            CREATE UNIQUE INDEX "ix_drone_connection_connection_id" ON "drone_connection" ("connection_id")
        `);
        await queryRunner.query(`
            CREATE TABLE "drone_connection_token" (
                "id" uuid NOT NULL DEFAULT gen_random_uuid(),
                "connection_id" uuid NOT NULL,
                "token_hash" character(64) NOT NULL,
                "created_at" TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT now(),
                "expires_at" TIMESTAMP WITH TIME ZONE NOT NULL,
                CONSTRAINT "pk_drone_connection_token_id" PRIMARY KEY ("id")
            )
        `);
        await queryRunner.query(`
            CREATE INDEX "ix_drone_connection_token_connection_id" ON "drone_connection_token" ("connection_id")
        `);
        await queryRunner.query(`
            CREATE UNIQUE INDEX "ix_drone_connection_token_token_hash" ON "drone_connection_token" ("token_hash")
        `);
        await queryRunner.query(`
            CREATE TABLE "drone_device" (
                "id" uuid NOT NULL DEFAULT gen_random_uuid(),
                "sn" character varying(64) NOT NULL,
                "kind" character varying(16) NOT NULL,
                "workspace_id" uuid,
                "connection_id" uuid,
                "model_key" character varying(32),
                "model_name" text,
                "firmware_version" text,
                "callsign" text,
                "gateway_sn" character varying(64),
                "online" boolean NOT NULL DEFAULT false,
                "last_connected_at" TIMESTAMP WITH TIME ZONE,
                "last_telemetry_at" TIMESTAMP WITH TIME ZONE,
                "last_lon" double precision,
                "last_lat" double precision,
                "last_height" double precision,
                "last_elevation" double precision,
                "last_heading" double precision,
                "last_mode_code" integer,
                "last_battery_percent" integer,
                "last_state" jsonb NOT NULL DEFAULT '{}',
                "flight_state" jsonb NOT NULL DEFAULT '{}',
                "created_at" TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT now(),
                "updated_at" TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT now(),
                CONSTRAINT "pk_drone_device_id" PRIMARY KEY ("id")
            )
        `);
        await queryRunner.query(`
            CREATE UNIQUE INDEX "ix_drone_device_sn" ON "drone_device" ("sn")
        `);
        await queryRunner.query(`
            CREATE INDEX "ix_drone_device_workspace_id" ON "drone_device" ("workspace_id")
        `);
        await queryRunner.query(`
            CREATE INDEX "ix_drone_device_connection_id" ON "drone_device" ("connection_id")
        `);
        await queryRunner.query(`
            CREATE TABLE "drone_media" (
                "id" uuid NOT NULL DEFAULT gen_random_uuid(),
                "workspace_id" uuid NOT NULL,
                "flight_id" uuid,
                "fingerprint" character varying(128) NOT NULL,
                "tiny_fingerprint" character varying(128),
                "name" text NOT NULL,
                "path" text,
                "kind" character varying(8) NOT NULL,
                "status" character varying(16) NOT NULL,
                "status_message" text,
                "storage_key" text,
                "size" bigint,
                "sha256" character(64),
                "device_sn" character varying(64),
                "picture_id" uuid,
                "captured_at" TIMESTAMP WITH TIME ZONE,
                "metadata" jsonb NOT NULL DEFAULT '{}',
                "ground_coverage" geometry(Polygon, 4326),
                "coverage_truncated" boolean,
                "uploaded_by" uuid,
                "created_at" TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT now(),
                "updated_at" TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT now(),
                CONSTRAINT "pk_drone_media_id" PRIMARY KEY ("id")
            )
        `);
        await queryRunner.query(`
            CREATE INDEX "ix_drone_media_flight_id" ON "drone_media" ("flight_id")
        `);
        await queryRunner.query(`
            CREATE INDEX "ix_drone_media_picture_id" ON "drone_media" ("picture_id")
        `);
        await queryRunner.query(`
            CREATE INDEX "ix_drone_media_tiny_fingerprint_workspace_id" ON "drone_media" ("workspace_id", "tiny_fingerprint")
        `);
        await queryRunner.query(`
            CREATE UNIQUE INDEX "ix_drone_media_fingerprint_workspace_id" ON "drone_media" ("workspace_id", "fingerprint")
        `);
        await queryRunner.query(`
            CREATE TABLE "drone_workspace" (
                "id" uuid NOT NULL DEFAULT gen_random_uuid(),
                "uuid" uuid NOT NULL,
                "name" text NOT NULL,
                "description" text NOT NULL DEFAULT '',
                "location" geometry(Point, 4326),
                "owner_id" uuid,
                "created_at" TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT now(),
                "updated_at" TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT now(),
                CONSTRAINT "pk_drone_workspace_id" PRIMARY KEY ("id")
            )
        `);
        await queryRunner.query(`
            CREATE UNIQUE INDEX "ix_drone_workspace_uuid" ON "drone_workspace" ("uuid")
        `);
        await queryRunner.query(`
            CREATE INDEX "ix_drone_workspace_owner_id" ON "drone_workspace" ("owner_id")
        `);
        await queryRunner.query(`
            CREATE TABLE "drone_flight" (
                "id" uuid NOT NULL DEFAULT gen_random_uuid(),
                "workspace_id" uuid NOT NULL,
                "device_id" uuid,
                "device_sn" character varying(64),
                "name" text,
                "status" character varying(16) NOT NULL,
                "started_at" TIMESTAMP WITH TIME ZONE NOT NULL,
                "landed_at" TIMESTAMP WITH TIME ZONE,
                "ended_at" TIMESTAMP WITH TIME ZONE,
                "end_reason" character varying(32),
                "is_created_manually" boolean NOT NULL DEFAULT false,
                "track" geometry(LineString, 4326),
                "point_count" integer NOT NULL DEFAULT '0',
                "max_elevation" double precision,
                "distance_m" double precision,
                "created_at" TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT now(),
                "updated_at" TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT now(),
                CONSTRAINT "pk_drone_flight_id" PRIMARY KEY ("id")
            )
        `);
        await queryRunner.query(`
            CREATE INDEX "ix_drone_flight_workspace_id" ON "drone_flight" ("workspace_id")
        `);
        await queryRunner.query(`
            CREATE INDEX "ix_drone_flight_device_id_started_at" ON "drone_flight" ("device_id", "started_at")
        `);
        await queryRunner.query(`
            CREATE TABLE "drone_track_point" (
                "sn" character varying(64) NOT NULL,
                "at" TIMESTAMP WITH TIME ZONE NOT NULL,
                "flight_id" uuid,
                "lon" double precision NOT NULL,
                "lat" double precision NOT NULL,
                "height" double precision,
                "elevation" double precision,
                "heading" double precision,
                "horizontal_speed" double precision,
                "vertical_speed" double precision,
                "mode_code" integer,
                "battery_percent" integer,
                CONSTRAINT "pk_drone_track_point_at_sn" PRIMARY KEY ("sn", "at")
            )
        `);
        await queryRunner.query(`
            CREATE INDEX "ix_drone_track_point_at_flight_id" ON "drone_track_point" ("flight_id", "at")
        `);
        await queryRunner.query(`
            ALTER TABLE "drone_connection"
            ADD CONSTRAINT "fk_drone_connection_workspace_id" FOREIGN KEY ("workspace_id") REFERENCES "drone_workspace"("id") ON DELETE CASCADE ON UPDATE NO ACTION
        `);
        await queryRunner.query(`
            ALTER TABLE "drone_connection_token"
            ADD CONSTRAINT "fk_drone_connection_token_connection_id" FOREIGN KEY ("connection_id") REFERENCES "drone_connection"("id") ON DELETE CASCADE ON UPDATE NO ACTION
        `);
        await queryRunner.query(`
            ALTER TABLE "drone_device"
            ADD CONSTRAINT "fk_drone_device_workspace_id" FOREIGN KEY ("workspace_id") REFERENCES "drone_workspace"("id") ON DELETE
            SET NULL ON UPDATE NO ACTION
        `);
        await queryRunner.query(`
            ALTER TABLE "drone_device"
            ADD CONSTRAINT "fk_drone_device_connection_id" FOREIGN KEY ("connection_id") REFERENCES "drone_connection"("id") ON DELETE
            SET NULL ON UPDATE NO ACTION
        `);
        await queryRunner.query(`
            ALTER TABLE "drone_media"
            ADD CONSTRAINT "fk_drone_media_workspace_id" FOREIGN KEY ("workspace_id") REFERENCES "drone_workspace"("id") ON DELETE CASCADE ON UPDATE NO ACTION
        `);
        await queryRunner.query(`
            ALTER TABLE "drone_media"
            ADD CONSTRAINT "fk_drone_media_flight_id" FOREIGN KEY ("flight_id") REFERENCES "drone_flight"("id") ON DELETE
            SET NULL ON UPDATE NO ACTION
        `);
        await queryRunner.query(`
            ALTER TABLE "drone_workspace"
            ADD CONSTRAINT "fk_drone_workspace_owner_id" FOREIGN KEY ("owner_id") REFERENCES "users"("id") ON DELETE
            SET NULL ON UPDATE NO ACTION
        `);
        await queryRunner.query(`
            ALTER TABLE "drone_flight"
            ADD CONSTRAINT "fk_drone_flight_workspace_id" FOREIGN KEY ("workspace_id") REFERENCES "drone_workspace"("id") ON DELETE CASCADE ON UPDATE NO ACTION
        `);
        await queryRunner.query(`
            ALTER TABLE "drone_flight"
            ADD CONSTRAINT "fk_drone_flight_device_id" FOREIGN KEY ("device_id") REFERENCES "drone_device"("id") ON DELETE
            SET NULL ON UPDATE NO ACTION
        `);
        await queryRunner.query(`
            ALTER TABLE "drone_track_point"
            ADD CONSTRAINT "fk_drone_track_point_flight_id" FOREIGN KEY ("flight_id") REFERENCES "drone_flight"("id") ON DELETE
            SET NULL ON UPDATE NO ACTION
        `);
    }

    public async down(queryRunner: QueryRunner): Promise<void> {
        await queryRunner.query(`
            ALTER TABLE "drone_track_point" DROP CONSTRAINT "fk_drone_track_point_flight_id"
        `);
        await queryRunner.query(`
            ALTER TABLE "drone_flight" DROP CONSTRAINT "fk_drone_flight_device_id"
        `);
        await queryRunner.query(`
            ALTER TABLE "drone_flight" DROP CONSTRAINT "fk_drone_flight_workspace_id"
        `);
        await queryRunner.query(`
            ALTER TABLE "drone_workspace" DROP CONSTRAINT "fk_drone_workspace_owner_id"
        `);
        await queryRunner.query(`
            ALTER TABLE "drone_media" DROP CONSTRAINT "fk_drone_media_flight_id"
        `);
        await queryRunner.query(`
            ALTER TABLE "drone_media" DROP CONSTRAINT "fk_drone_media_workspace_id"
        `);
        await queryRunner.query(`
            ALTER TABLE "drone_device" DROP CONSTRAINT "fk_drone_device_connection_id"
        `);
        await queryRunner.query(`
            ALTER TABLE "drone_device" DROP CONSTRAINT "fk_drone_device_workspace_id"
        `);
        await queryRunner.query(`
            ALTER TABLE "drone_connection_token" DROP CONSTRAINT "fk_drone_connection_token_connection_id"
        `);
        await queryRunner.query(`
            ALTER TABLE "drone_connection" DROP CONSTRAINT "fk_drone_connection_workspace_id"
        `);
        await queryRunner.query(`
            DROP INDEX "public"."ix_drone_track_point_at_flight_id"
        `);
        await queryRunner.query(`
            DROP TABLE "drone_track_point"
        `);
        await queryRunner.query(`
            DROP INDEX "public"."ix_drone_flight_device_id_started_at"
        `);
        await queryRunner.query(`
            DROP INDEX "public"."ix_drone_flight_workspace_id"
        `);
        await queryRunner.query(`
            DROP TABLE "drone_flight"
        `);
        await queryRunner.query(`
            DROP INDEX "public"."ix_drone_workspace_owner_id"
        `);
        await queryRunner.query(`
            DROP INDEX "public"."ix_drone_workspace_uuid"
        `);
        await queryRunner.query(`
            DROP TABLE "drone_workspace"
        `);
        await queryRunner.query(`
            DROP INDEX "public"."ix_drone_media_fingerprint_workspace_id"
        `);
        await queryRunner.query(`
            DROP INDEX "public"."ix_drone_media_tiny_fingerprint_workspace_id"
        `);
        await queryRunner.query(`
            DROP INDEX "public"."ix_drone_media_picture_id"
        `);
        await queryRunner.query(`
            DROP INDEX "public"."ix_drone_media_flight_id"
        `);
        await queryRunner.query(`
            DROP TABLE "drone_media"
        `);
        await queryRunner.query(`
            DROP INDEX "public"."ix_drone_device_connection_id"
        `);
        await queryRunner.query(`
            DROP INDEX "public"."ix_drone_device_workspace_id"
        `);
        await queryRunner.query(`
            DROP INDEX "public"."ix_drone_device_sn"
        `);
        await queryRunner.query(`
            DROP TABLE "drone_device"
        `);
        await queryRunner.query(`
            DROP INDEX "public"."ix_drone_connection_token_token_hash"
        `);
        await queryRunner.query(`
            DROP INDEX "public"."ix_drone_connection_token_connection_id"
        `);
        await queryRunner.query(`
            DROP TABLE "drone_connection_token"
        `);
        await queryRunner.query(`
            DROP INDEX "public"."ix_drone_connection_connection_id"
        `);
        await queryRunner.query(`
            DROP INDEX "public"."ix_drone_connection_workspace_id"
        `);
        await queryRunner.query(`
            DROP TABLE "drone_connection"
        `);
    }

}

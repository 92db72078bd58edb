import { MigrationInterface, QueryRunner } from "typeorm";

export class ManagementJobs1763800004000 implements MigrationInterface {
    name = 'ManagementJobs1763800004000'

    public async up(queryRunner: QueryRunner): Promise<void> {
        await queryRunner.query(`
            CREATE TABLE "management_job" (
                "id" uuid NOT NULL DEFAULT gen_random_uuid(),
                "command" character varying(128) NOT NULL,
                "args" jsonb NOT NULL DEFAULT '{}',
                "status" character varying(16) NOT NULL DEFAULT 'created',
                "exclusive" boolean NOT NULL DEFAULT false,
                "source" character varying(8) NOT NULL DEFAULT 'api',
                "user_id" uuid,
                "progress" real NOT NULL DEFAULT '0',
                "result" jsonb,
                "error" text,
                "attempt" integer NOT NULL DEFAULT '0',
                "runner" text,
                "output_lines" integer NOT NULL DEFAULT '0',
                "created_at" TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT now(),
                "queued_at" TIMESTAMP WITH TIME ZONE,
                "started_at" TIMESTAMP WITH TIME ZONE,
                "ended_at" TIMESTAMP WITH TIME ZONE,
                "heartbeat_at" TIMESTAMP WITH TIME ZONE,
                "stop_requested_at" TIMESTAMP WITH TIME ZONE,
                CONSTRAINT "pk_management_job_id" PRIMARY KEY ("id")
            )
        `);
        await queryRunner.query(`
            CREATE UNIQUE INDEX "ux_management_job_exclusive_active" ON "management_job" ("command")
            WHERE "exclusive"
                AND "status" IN ('queued', 'running')
        `);
        await queryRunner.query(`
            CREATE INDEX "ix_management_job_user_id" ON "management_job" ("user_id")
        `);
        await queryRunner.query(`
            CREATE INDEX "ix_management_job_status" ON "management_job" ("status")
        `);
        await queryRunner.query(`
            CREATE INDEX "ix_management_job_command_created_at" ON "management_job" ("command", "created_at")
        `);
        await queryRunner.query(`
            CREATE INDEX "ix_management_job_created_at_id" ON "management_job" ("created_at", "id")
        `);
        await queryRunner.query(`
            CREATE TABLE "management_job_output" (
                "job_id" uuid NOT NULL,
                "seq" integer NOT NULL,
                "at" TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT now(),
                "line" text NOT NULL,
                CONSTRAINT "pk_management_job_output_job_id_seq" PRIMARY KEY ("job_id", "seq")
            )
        `);
        await queryRunner.query(`
            ALTER TABLE "management_job"
            ADD CONSTRAINT "fk_management_job_user_id" FOREIGN KEY ("user_id") REFERENCES "users"("id") ON DELETE
            SET NULL ON UPDATE NO ACTION
        `);
        await queryRunner.query(`
            ALTER TABLE "management_job_output"
            ADD CONSTRAINT "fk_management_job_output_job_id" FOREIGN KEY ("job_id") REFERENCES "management_job"("id") ON DELETE CASCADE ON UPDATE NO ACTION
        `);
    }

    public async down(queryRunner: QueryRunner): Promise<void> {
        await queryRunner.query(`
            ALTER TABLE "management_job_output" DROP CONSTRAINT "fk_management_job_output_job_id"
        `);
        await queryRunner.query(`
            ALTER TABLE "management_job" DROP CONSTRAINT "fk_management_job_user_id"
        `);
        await queryRunner.query(`
            DROP TABLE "management_job_output"
        `);
        await queryRunner.query(`
            DROP INDEX "public"."ix_management_job_created_at_id"
        `);
        await queryRunner.query(`
            DROP INDEX "public"."ix_management_job_command_created_at"
        `);
        await queryRunner.query(`
            DROP INDEX "public"."ix_management_job_status"
        `);
        await queryRunner.query(`
            DROP INDEX "public"."ix_management_job_user_id"
        `);
        await queryRunner.query(`
            DROP INDEX "public"."ux_management_job_exclusive_active"
        `);
        await queryRunner.query(`
            DROP TABLE "management_job"
        `);
    }

}

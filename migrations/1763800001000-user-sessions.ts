import { MigrationInterface, QueryRunner } from "typeorm";

export class UserSessions1763800001000 implements MigrationInterface {
    name = 'UserSessions1763800001000'

    public async up(queryRunner: QueryRunner): Promise<void> {
        await queryRunner.query(`
            CREATE TABLE "user_session" (
                "id" text NOT NULL,
                "user_id" uuid,
                "data" jsonb NOT NULL,
                "expires_at" TIMESTAMP WITH TIME ZONE NOT NULL,
                "created_at" TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT now(),
                "updated_at" TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT now(),
                CONSTRAINT "pk_user_session_id" PRIMARY KEY ("id")
            )
        `);
        await queryRunner.query(`
            CREATE INDEX "ix_user_session_expires_at" ON "user_session" ("expires_at")
        `);
        await queryRunner.query(`
            CREATE INDEX "ix_user_session_user_id" ON "user_session" ("user_id")
        `);
        await queryRunner.query(`
            ALTER TABLE "user_session"
            ADD CONSTRAINT "fk_user_session_user_id" FOREIGN KEY ("user_id") REFERENCES "users"("id") ON DELETE CASCADE ON UPDATE NO ACTION
        `);
    }

    public async down(queryRunner: QueryRunner): Promise<void> {
        await queryRunner.query(`
            ALTER TABLE "user_session" DROP CONSTRAINT "fk_user_session_user_id"
        `);
        await queryRunner.query(`
            DROP INDEX "public"."ix_user_session_user_id"
        `);
        await queryRunner.query(`
            DROP INDEX "public"."ix_user_session_expires_at"
        `);
        await queryRunner.query(`
            DROP TABLE "user_session"
        `);
    }

}

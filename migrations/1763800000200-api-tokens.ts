import { MigrationInterface, QueryRunner } from "typeorm";

export class ApiTokens1763800000200 implements MigrationInterface {
    name = 'ApiTokens1763800000200'

    public async up(queryRunner: QueryRunner): Promise<void> {
        await queryRunner.query(`
            CREATE TABLE "api_token" (
                "id" uuid NOT NULL DEFAULT gen_random_uuid(),
                "user_id" uuid,
                "description" text NOT NULL DEFAULT '',
                "expires_at" TIMESTAMP WITH TIME ZONE,
                "last_used_at" TIMESTAMP WITH TIME ZONE,
                "created_at" TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT now(),
                CONSTRAINT "pk_api_token_id" PRIMARY KEY ("id")
            )
        `);
        await queryRunner.query(`
            CREATE INDEX "ix_api_token_user_id" ON "api_token" ("user_id")
        `);
        await queryRunner.query(`
            ALTER TABLE "api_token"
            ADD CONSTRAINT "fk_api_token_user_id" FOREIGN KEY ("user_id") REFERENCES "users"("id") ON DELETE CASCADE ON UPDATE NO ACTION
        `);
    }

    public async down(queryRunner: QueryRunner): Promise<void> {
        await queryRunner.query(`
            ALTER TABLE "api_token" DROP CONSTRAINT "fk_api_token_user_id"
        `);
        await queryRunner.query(`
            DROP INDEX "public"."ix_api_token_user_id"
        `);
        await queryRunner.query(`
            DROP TABLE "api_token"
        `);
    }

}

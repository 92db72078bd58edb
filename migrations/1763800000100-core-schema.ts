import { MigrationInterface, QueryRunner } from "typeorm";

export class CoreSchema1763800000100 implements MigrationInterface {
    name = 'CoreSchema1763800000100'

    public async up(queryRunner: QueryRunner): Promise<void> {
        await queryRunner.query(`
            CREATE TABLE "users" (
                "id" uuid NOT NULL DEFAULT gen_random_uuid(),
                "issuer" text NOT NULL,
                "subject" text NOT NULL,
                "name" text NOT NULL,
                "email" text,
                "role" character varying(16) NOT NULL DEFAULT 'user',
                "default_visibility" character varying(16) NOT NULL DEFAULT 'anyone',
                "created_at" TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT now(),
                "updated_at" TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT now(),
                CONSTRAINT "pk_users_id" PRIMARY KEY ("id")
            )
        `);
        await queryRunner.query(`
            CREATE UNIQUE INDEX "ix_users_issuer_subject" ON "users" ("issuer", "subject")
        `);
        await queryRunner.query(`
            CREATE TABLE "collection" (
                "id" uuid NOT NULL DEFAULT gen_random_uuid(),
                "kind" character varying(16) NOT NULL,
                "owner_id" uuid,
                "visibility" character varying(16) NOT NULL DEFAULT 'anyone',
                "status" character varying(16) NOT NULL DEFAULT 'ready',
                "title" text NOT NULL,
                "description" text,
                "license" character varying(64) NOT NULL DEFAULT 'proprietary',
                "keywords" text array NOT NULL DEFAULT '{}',
                "providers" jsonb NOT NULL DEFAULT '[]',
                "geom" geometry(Geometry, 4326),
                "datetime_start" TIMESTAMP WITH TIME ZONE,
                "datetime_end" TIMESTAMP WITH TIME ZONE,
                "summaries" jsonb NOT NULL DEFAULT '{}',
                "properties" jsonb NOT NULL DEFAULT '{}',
                "item_count" integer NOT NULL DEFAULT '0',
                "created_at" TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT now(),
                "updated_at" TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT now(),
                CONSTRAINT "pk_collection_id" PRIMARY KEY ("id")
            )
        `);
        await queryRunner.query(`
            CREATE INDEX "ix_collection_owner_id" ON "collection" ("owner_id")
        `);
        await queryRunner.query(`
            CREATE INDEX "ix_collection_created_at_kind" ON "collection" ("kind", "created_at")
        `);
        await queryRunner.query(`
            CREATE TABLE "item" (
                "id" uuid NOT NULL DEFAULT gen_random_uuid(),
                "collection_id" uuid NOT NULL,
                "kind" character varying(16) NOT NULL,
                "owner_id" uuid,
                "visibility" character varying(16) NOT NULL DEFAULT 'anyone',
                "status" character varying(16) NOT NULL DEFAULT 'ready',
                "datetime" TIMESTAMP WITH TIME ZONE,
                "geom" geometry(Geometry, 4326),
                "rank" integer,
                "properties" jsonb NOT NULL DEFAULT '{}',
                "assets" jsonb NOT NULL DEFAULT '{}',
                "created_at" TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT now(),
                "updated_at" TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT now(),
                CONSTRAINT "pk_item_id" PRIMARY KEY ("id")
            )
        `);
        await queryRunner.query(`
            CREATE INDEX "ix_item_geom" ON "item" USING gist ("geom")
        `);
        await queryRunner.query(`
            CREATE INDEX "ix_item_owner_id" ON "item" ("owner_id")
        `);
        await queryRunner.query(`
            CREATE INDEX "ix_item_datetime_id" ON "item" ("datetime", "id")
        `);
        await queryRunner.query(`
            CREATE INDEX "ix_item_collection_id_rank" ON "item" ("collection_id", "rank")
        `);
        await queryRunner.query(`
            ALTER TABLE "collection"
            ADD CONSTRAINT "fk_collection_owner_id" FOREIGN KEY ("owner_id") REFERENCES "users"("id") ON DELETE
            SET NULL ON UPDATE NO ACTION
        `);
        await queryRunner.query(`
            ALTER TABLE "item"
            ADD CONSTRAINT "fk_item_collection_id" FOREIGN KEY ("collection_id") REFERENCES "collection"("id") ON DELETE CASCADE ON UPDATE NO ACTION
        `);
    }

    public async down(queryRunner: QueryRunner): Promise<void> {
        await queryRunner.query(`
            ALTER TABLE "item" DROP CONSTRAINT "fk_item_collection_id"
        `);
        await queryRunner.query(`
            ALTER TABLE "collection" DROP CONSTRAINT "fk_collection_owner_id"
        `);
        await queryRunner.query(`
            DROP INDEX "public"."ix_item_collection_id_rank"
        `);
        await queryRunner.query(`
            DROP INDEX "public"."ix_item_datetime_id"
        `);
        await queryRunner.query(`
            DROP INDEX "public"."ix_item_owner_id"
        `);
        await queryRunner.query(`
            DROP INDEX "public"."ix_item_geom"
        `);
        await queryRunner.query(`
            DROP TABLE "item"
        `);
        await queryRunner.query(`
            DROP INDEX "public"."ix_collection_created_at_kind"
        `);
        await queryRunner.query(`
            DROP INDEX "public"."ix_collection_owner_id"
        `);
        await queryRunner.query(`
            DROP TABLE "collection"
        `);
        await queryRunner.query(`
            DROP INDEX "public"."ix_users_issuer_subject"
        `);
        await queryRunner.query(`
            DROP TABLE "users"
        `);
    }

}

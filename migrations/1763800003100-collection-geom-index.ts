import { MigrationInterface, QueryRunner } from "typeorm";

export class CollectionGeomIndex1763800003100 implements MigrationInterface {
    name = 'CollectionGeomIndex1763800003100'

    public async up(queryRunner: QueryRunner): Promise<void> {
        await queryRunner.query(`
            CREATE INDEX "ix_collection_geom" ON "collection" USING gist ("geom")
        `);
    }

    public async down(queryRunner: QueryRunner): Promise<void> {
        await queryRunner.query(`
            DROP INDEX "public"."ix_collection_geom"
        `);
    }

}

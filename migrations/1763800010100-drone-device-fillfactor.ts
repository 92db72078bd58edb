import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Drone devices are updated with every telemetry message (their last state): room left in each
 * page lets PostgreSQL keep the new row versions beside the old ones (HOT updates, no index writes).
 */
export class DroneDeviceFillfactor1763800010100 implements MigrationInterface {
  name = 'DroneDeviceFillfactor1763800010100';

  public async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`ALTER TABLE "drone_device" SET (fillfactor = 50)`);
  }

  public async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`ALTER TABLE "drone_device" RESET (fillfactor)`);
  }
}

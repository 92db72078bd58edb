import { execFile } from 'node:child_process';
import { promisify } from 'node:util';

const run = promisify(execFile);

/** Whether ExifTool (Debian `libimage-exiftool-perl`) is installed. */
export async function hasExiftool(): Promise<boolean> {
  try {
    await run('exiftool', ['-ver']);
    return true;
  } catch {
    return false;
  }
}

/** Why a test that needs ExifTool skips. */
export const NO_EXIFTOOL = 'ExifTool is not installed (Debian: apt-get install libimage-exiftool-perl; npm test installs it when run as root)';

/** `exiftool -json -n -a -G1` of files: numeric values, every tag named by its group (`IFD0:Make`, `Composite:GPSLatitude`…). */
export async function exiftool(files: string[]): Promise<Record<string, unknown>[]> {
  const { stdout } = await run('exiftool', ['-json', '-n', '-a', '-G1', ...files], { maxBuffer: 1 << 28 });
  return JSON.parse(stdout) as Record<string, unknown>[];
}

/** Runs exiftool to write tags (test files only). */
export async function exiftoolWrite(args: string[]): Promise<void> {
  await run('exiftool', args);
}

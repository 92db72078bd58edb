import { execFile } from 'node:child_process';
import { promisify } from 'node:util';

/** Runs a program; its standard output and error. */
export const run = promisify(execFile);

/** Whether GDAL's command-line tools (Debian `gdal-bin`) are installed. */
export async function hasGdal(): Promise<boolean> {
  try {
    await run('gdalinfo', ['--version']);
    return true;
  } catch {
    return false;
  }
}

/** Why a test that needs GDAL skips. */
export const NO_GDAL = 'GDAL (gdal-bin) is not installed (Debian: apt-get install gdal-bin; npm test installs it when run as root)';

/** Runs a GDAL utility with lines on its standard input; its output lines split into numbers. */
export async function gdalNumbers(tool: string, args: string[], input?: string): Promise<number[][]> {
  const child = execFile(tool, args);
  let out = '';
  child.stdout!.on('data', (d) => (out += d));
  if (input !== undefined) child.stdin!.end(input);
  await new Promise<void>((resolve, reject) => child.on('close', (code) => (code === 0 ? resolve() : reject(new Error(`${tool} ${args.join(' ')} exited ${code}`)))));
  return out
    .trim()
    .split('\n')
    .filter(Boolean)
    .map((l) => l.trim().split(/\s+/).map(Number));
}

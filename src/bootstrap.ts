import { AppConfig, ConfigError, loadConfig } from './config/app-config.js';

/** Validates the environment before anything starts; exits with the reason when it is wrong. */
export function configOrExit(): AppConfig {
  try {
    return loadConfig();
  } catch (error) {
    if (error instanceof ConfigError) {
      process.stderr.write(`${error.message}\nSee .env.example for every variable and its default.\n`);
      process.exit(78); // EX_CONFIG
    }
    throw error;
  }
}

/**
 * On SIGTERM / SIGINT: close the application (the API stops accepting and drains requests,
 * the worker finishes or releases its jobs), then exit 0. A second signal exits at once.
 */
export function exitOnSignals(close: () => Promise<void>, name: string): void {
  let closing = false;
  const onSignal = (signal: NodeJS.Signals) => {
    if (closing) process.exit(130);
    closing = true;
    process.stdout.write(`${name}: ${signal} received, shutting down\n`);
    close().then(
      () => {
        process.stdout.write(`${name}: stopped\n`);
        process.exit(0);
      },
      (error: Error) => {
        process.stderr.write(`${name}: shutdown failed: ${error.message}\n`);
        process.exit(1);
      },
    );
  };
  process.on('SIGTERM', onSignal);
  process.on('SIGINT', onSignal);
}

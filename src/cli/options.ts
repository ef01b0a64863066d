import { ConfigError, loadConfig, type Config } from '../config/config.ts';

/** Loads the configuration; on error prints it and exits with status 2, as documented. */
export function configOrExit(flags: Record<string, unknown>, file?: string): Config {
  try {
    return loadConfig({ file, flags });
  } catch (err) {
    if (err instanceof ConfigError) {
      process.stderr.write(`vigil: ${err.message}\n`);
      process.exit(2);
    }
    throw err;
  }
}

/** Fails the command with a message and status (1 unless told). */
export function fail(message: string, status = 1): never {
  process.stderr.write(`vigil: ${message}\n`);
  process.exit(status);
}

import { Command } from 'commander';
import { startVigil } from '../server/app.ts';
import { configOrExit } from './options.ts';

/** `vigil start`: runs the server until SIGTERM or SIGINT, then drains and flushes. */
export function startCommand(): Command {
  return new Command('start')
    .description('Start Vigil: UI and API, OTLP/HTTP receiver and Splunk HEC receiver, with embedded storage')
    .option('--data-dir <dir>', 'where the stores live (VIGIL_DATA_DIR, default ./data)')
    .option('--host <address>', 'address to listen on (VIGIL_HOST, default 127.0.0.1)')
    .option('--port <port>', 'UI and API port (VIGIL_PORT, default 4400)')
    .option('--otlp-port <port>', 'OTLP/HTTP receiver port (VIGIL_OTLP_PORT, default 4318)')
    .option('--hec-port <port>', 'Splunk HEC receiver port (VIGIL_HEC_PORT, default 8088)')
    .option('--config <file>', 'YAML or JSON configuration file (VIGIL_CONFIG)')
    .action(async (opts: { dataDir?: string; host?: string; port?: string; otlpPort?: string; hecPort?: string; config?: string }) => {
      const config = configOrExit({ dataDir: opts.dataDir, host: opts.host, port: opts.port, otlpPort: opts.otlpPort, hecPort: opts.hecPort }, opts.config);
      const server = await startVigil(config);
      const count = (await server.tokens.list()).filter((t) => !t.revokedAt).length;
      process.stdout.write(
        [
          'Vigil is running',
          `  UI and API   ${server.urls.api}`,
          `  OTLP/HTTP    ${server.urls.otlp}/v1/{traces,metrics,logs}`,
          `  Splunk HEC   ${server.urls.hec}/services/collector/event`,
          `  data         ${config.dataDir}`,
          count === 0 ? '  No API tokens yet: create one with `vigil token create --name NAME --scope ingest`' : '',
          '',
        ].join('\n'),
      );
      let stopping = false;
      const shutdown = (signal: string) => {
        if (stopping) return;
        stopping = true;
        process.stdout.write(`${signal}: draining ingest queue and closing stores\n`);
        server.stop().then(
          () => process.exit(0),
          (err: unknown) => {
            process.stderr.write(`vigil: shutdown failed: ${(err as Error).message}\n`);
            process.exit(1);
          },
        );
      };
      process.on('SIGTERM', () => shutdown('SIGTERM'));
      process.on('SIGINT', () => shutdown('SIGINT'));
    });
}

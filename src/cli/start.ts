import { join, resolve } from 'node:path';
import { Command } from 'commander';
import { randomPassword } from '../store/state/users.ts';
import { DEMO_SETUP_TOKEN, demoAvailable, spawnDemo, stopDemo } from './demo-process.ts';
import { configOrExit, fail } from './options.ts';

interface StartOptions {
  dataDir?: string;
  host?: string;
  port?: string;
  otlpPort?: string;
  hecPort?: string;
  config?: string;
  demo?: boolean;
}

/** `vigil start`: runs the server (and by default the demo systems) until SIGTERM or SIGINT, then drains and flushes. */
export function startCommand(): Command {
  return new Command('start')
    .description('Start Vigil: UI and API, OTLP/HTTP receiver and Splunk HEC receiver, with embedded storage')
    .option('--data-dir <dir>', 'where the stores live (VIGIL_DATA_DIR, default ./data)')
    .option('--host <address>', 'address to listen on (VIGIL_HOST, default 127.0.0.1)')
    .option('--port <port>', 'UI and API port (VIGIL_PORT, default 4400)')
    .option('--otlp-port <port>', 'OTLP/HTTP receiver port (VIGIL_OTLP_PORT, default 4318)')
    .option('--hec-port <port>', 'Splunk HEC receiver port (VIGIL_HEC_PORT, default 8088)')
    .option('--config <file>', 'YAML or JSON configuration file (VIGIL_CONFIG)')
    .option('--demo', 'also run the demo RMS and LMS with traffic (VIGIL_DEMO__ENABLED, default on)')
    .option('--no-demo', 'run Vigil alone, without the demo systems')
    .action(async (opts: StartOptions) => {
      const config = configOrExit(
        {
          dataDir: opts.dataDir,
          host: opts.host,
          port: opts.port,
          otlpPort: opts.otlpPort,
          hecPort: opts.hecPort,
          demo: opts.demo === undefined ? undefined : { enabled: opts.demo },
        },
        opts.config,
      );
      // Loaded here, not at the top: every other command (and --help, and usage errors) starts without the server's modules.
      const { startVigil } = await import('../server/app.ts');
      // A store that cannot be opened (an unreachable PostgreSQL, a locked file) is one line, not a stack.
      const server = await startVigil(config).catch((err: unknown) => fail(`cannot start: ${(err as Error).message}`));
      const count = (await server.tokens.list()).filter((t) => !t.revokedAt && t.name !== 'demo' && t.name !== DEMO_SETUP_TOKEN).length;
      const lines = [
        'Vigil is running',
        `  UI and API   ${server.urls.api}`,
        `  OTLP/HTTP    ${server.urls.otlp}/v1/{traces,metrics,logs}`,
        `  Splunk HEC   ${server.urls.hec}/services/collector/event`,
        `  data         ${config.dataDir}`,
      ];
      // First run: an admin with a one-time password, so the UI can be signed in to at once.
      if ((await server.users.count()) === 0) {
        const password = randomPassword();
        await server.users.create({ username: 'admin', password, role: 'admin' });
        await server.audit.record({ actor: 'system', action: 'user.created', target: 'user:admin', details: { role: 'admin', bootstrap: true } });
        lines.push(`  sign in      ${server.urls.api} as admin / ${password}  (shown once: change it, or reset with vigil user reset-password admin)`);
      }
      if (count === 0) lines.push('  No API tokens yet: create one with `vigil token create --name NAME --scope ingest` (or --scope read for search)');

      let demo: ReturnType<typeof spawnDemo> | undefined;
      if (config.demo.enabled && demoAvailable()) {
        // The demo gets its own tokens, replaced at every start, so no secret is stored in clear: one to
        // send telemetry, one (write) to create its dashboards and monitors through the API.
        const token = await server.tokens.rotate('demo', 'ingest');
        const setupToken = await server.tokens.rotate(DEMO_SETUP_TOKEN, 'write');
        demo = spawnDemo({
          otlpUrl: server.urls.otlp,
          hecUrl: server.urls.hec,
          apiUrl: server.urls.api,
          token,
          setupToken,
          dataDir: join(resolve(config.dataDir), 'demo'),
          adminPort: config.demo.adminPort,
          rate: config.demo.rate,
          output: 'prefix',
        });
        lines.push(
          `  demo         RMS and LMS with live traffic; admin API http://127.0.0.1:${config.demo.adminPort}`,
          '               try: vigil demo fault list   /   vigil demo fault rms-slow-query on',
          '               search: vigil token create --name me --scope read, then',
          "                       VIGIL_TOKEN=<token> vigil search --since 5m 'from spans | stats count() p95(duration_ms) by service.name'",
          '               (start with --no-demo to run Vigil alone)',
        );
      }
      process.stdout.write(`${lines.join('\n')}\n`);

      let stopping = false;
      const shutdown = (signal: string) => {
        if (stopping) return;
        stopping = true;
        process.stdout.write(`${signal}: draining ingest queue and closing stores\n`);
        (async () => {
          if (demo) await stopDemo(demo);
          await server.stop();
        })().then(
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

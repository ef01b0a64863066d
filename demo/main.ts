/**
 * Runs the demo standalone until Ctrl-C:
 * `node --import tsx demo/main.ts --otlp-url http://127.0.0.1:4318 --hec-url http://127.0.0.1:8088 --token TOKEN`
 * (`--url` derives both receiver URLs from a Vigil base URL on the standard ports). With `--url` and a
 * write-scoped token in VIGIL_SETUP_TOKEN (which `vigil start` provides), the demo also creates its
 * dashboards and workflow monitors in Vigil through the API, once per data directory (demo/content.ts).
 */
import os from 'node:os';
import path from 'node:path';
import { Command } from 'commander';
import { contentStateFile, installDemoContent } from './content.ts';
import { startDemo } from './supervisor.ts';

const program = new Command()
  .name('vigil-demo')
  .description('Run the instrumented RMS and LMS demo systems with traffic and injectable faults')
  .option('--url <url>', 'Vigil base URL (API/UI); receivers default to its host on 4318 and 8088')
  .option('--otlp-url <url>', 'OTLP/HTTP base URL', process.env.VIGIL_OTLP_URL)
  .option('--hec-url <url>', 'Splunk HEC base URL', process.env.VIGIL_HEC_URL)
  .option('--token <token>', 'Vigil ingest token', process.env.VIGIL_TOKEN ?? '')
  .option('--data-dir <dir>', 'where the demo keeps its databases', path.join(os.tmpdir(), 'vigil-demo'))
  .option('--admin-port <port>', 'demo admin API port', '4480')
  .option('--rate <n>', 'workflows per second', '4')
  .option('--database-url <url>', 'PostgreSQL URL for the RMS database', process.env.DEMO_DATABASE_URL);
program.parse();
const o = program.opts<{ url?: string; otlpUrl?: string; hecUrl?: string; token: string; dataDir: string; adminPort: string; rate: string; databaseUrl?: string }>();

const host = o.url ? new URL(o.url).hostname : '127.0.0.1';
const demo = await startDemo({
  vigilOtlpUrl: o.otlpUrl ?? `http://${host}:4318`,
  vigilHecUrl: o.hecUrl ?? `http://${host}:8088`,
  vigilUrl: o.url,
  token: o.token,
  dataDir: o.dataDir,
  adminPort: Number(o.adminPort),
  trafficRate: Number(o.rate),
  databaseUrl: o.databaseUrl,
});
console.log(`Vigil demo running. Admin API: ${demo.adminUrl}`);
for (const s of Object.values(demo.services)) console.log(`  ${s.name.padEnd(16)} ${s.url}  v${s.version}`);
console.log(`Faults: curl ${demo.adminUrl}/faults ; curl -X POST ${demo.adminUrl}/faults/rms-slow-query/on`);
const setupToken = process.env.VIGIL_SETUP_TOKEN;
if (o.url && setupToken) {
  // Not fatal: the systems and their traffic are the demo; dashboards and monitors are a convenience.
  const report = await installDemoContent({ vigilUrl: o.url, token: setupToken, adminUrl: demo.adminUrl, stateFile: contentStateFile(o.dataDir) }).catch(
    (err: unknown) => ({ created: [], failed: [`Vigil API: ${(err as Error).message}`] }),
  );
  if (report.created.length) console.log(`Created in Vigil: ${report.created.join(', ')}`);
  for (const f of report.failed) console.error(`could not create ${f}`);
}
const stop = () => {
  console.log('stopping demo...');
  void demo.stop().finally(() => process.exit(0));
};
process.once('SIGINT', stop);
process.once('SIGTERM', stop);

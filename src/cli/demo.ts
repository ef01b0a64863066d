import { Command } from 'commander';
import { DEMO_ADMIN_URL, spawnDemo } from './demo-process.ts';
import { fail } from './options.ts';

interface FaultInfo {
  name: string;
  description: string;
  target: string;
  remediation: string;
  state: string;
  since: string | null;
}

async function admin<T>(adminUrl: string, method: 'GET' | 'POST', path: string): Promise<T> {
  let res: Response;
  try {
    res = await fetch(`${adminUrl.replace(/\/$/, '')}${path}`, { method });
  } catch {
    fail(`cannot reach the demo admin API at ${adminUrl}: is Vigil running with the demo (npm start)?`);
  }
  const body = (await res.json().catch(() => ({}))) as T & { error?: string; message?: string };
  if (!res.ok) fail(body.message ?? body.error ?? `demo admin API answered ${res.status}`, res.status === 404 || res.status === 400 ? 2 : 1);
  return body;
}

const adminOption = ['--admin-url <url>', `demo admin API (VIGIL_DEMO_ADMIN_URL, default ${DEMO_ADMIN_URL})`] as const;
const adminUrlOf = (o: { adminUrl?: string }) => o.adminUrl ?? process.env.VIGIL_DEMO_ADMIN_URL ?? DEMO_ADMIN_URL;

/** `vigil demo`: run the demo against a Vigil, switch faults, apply remediations. */
export function demoCommand(): Command {
  const demo = new Command('demo')
    .description('The demo RMS and LMS: run them against a Vigil, or switch their faults')
    .option('--url <url>', 'Vigil API URL; the receivers are its host on ports 4318 and 8088 (VIGIL_URL)')
    .option('--otlp-url <url>', 'OTLP/HTTP base URL (overrides --url)')
    .option('--hec-url <url>', 'Splunk HEC base URL (overrides --url)')
    .option('--token <token>', 'ingest token (VIGIL_TOKEN)')
    .option('--data-dir <dir>', 'where the demo keeps its databases', './data/demo')
    .option('--admin-port <port>', 'demo admin API port', '4480')
    .option('--rate <n>', 'user workflows per second', '4')
    .action(async (o: { url?: string; otlpUrl?: string; hecUrl?: string; token?: string; dataDir: string; adminPort: string; rate: string }) => {
      const url = o.url ?? process.env.VIGIL_URL;
      const token = o.token ?? process.env.VIGIL_TOKEN;
      if (!token) fail('no token: pass --token or set VIGIL_TOKEN (an ingest token: vigil token create --name demo --scope ingest)', 2);
      if (!url && !(o.otlpUrl && o.hecUrl)) fail('give --url (or both --otlp-url and --hec-url)', 2);
      const host = url ? new URL(url).hostname : '127.0.0.1';
      const child = spawnDemo({
        otlpUrl: o.otlpUrl ?? `http://${host}:4318`,
        hecUrl: o.hecUrl ?? `http://${host}:8088`,
        apiUrl: url,
        token,
        dataDir: o.dataDir,
        adminPort: Number(o.adminPort),
        rate: Number(o.rate),
        output: 'inherit',
      });
      const forward = (signal: NodeJS.Signals) => child.kill(signal);
      process.on('SIGINT', forward);
      process.on('SIGTERM', forward);
      child.on('exit', (code) => process.exit(code ?? 0));
    });

  const fault = demo.command('fault').description('List or switch the demo faults');
  fault
    .command('list')
    .description('List faults with their state')
    .option(...adminOption)
    .option('--json', 'one JSON object per fault')
    .action(async (o: { adminUrl?: string; json?: boolean }) => {
      const { faults } = await admin<{ faults: FaultInfo[] }>(adminUrlOf(o), 'GET', '/faults');
      if (o.json) {
        for (const f of faults) process.stdout.write(`${JSON.stringify(f)}\n`);
        return;
      }
      const width = Math.max(...faults.map((f) => f.name.length));
      for (const f of faults) process.stdout.write(`${f.name.padEnd(width)}  ${f.state.padEnd(3)}  ${f.target.padEnd(15)}  ${f.description}\n`);
    });
  fault
    .command('set', { isDefault: true, hidden: true })
    .argument('<name>', 'fault name (see `vigil demo fault list`)')
    .argument('<state>', 'on or off')
    .option(...adminOption)
    .action(async (name: string, state: string, o: { adminUrl?: string }) => {
      if (state !== 'on' && state !== 'off') fail(`state must be on or off, got "${state}"`, 2);
      const f = await admin<FaultInfo>(adminUrlOf(o), 'POST', `/faults/${encodeURIComponent(name)}/${state}`);
      process.stdout.write(`${f.name} is ${f.state} (${f.target})${f.state === 'on' ? `; remediation: vigil demo remediate ${f.remediation}` : ''}\n`);
    });
  fault.usage('list | <name> on|off');

  demo
    .command('remediate')
    .description('Apply a remediation action (recreate-index, restore-role-mapping, rollback, restart, ...)')
    .argument('<action>', 'remediation action')
    .option(...adminOption)
    .action(async (action: string, o: { adminUrl?: string }) => {
      const r = await admin<{ action: string; result: unknown }>(adminUrlOf(o), 'POST', `/remediate/${encodeURIComponent(action)}`);
      process.stdout.write(`${r.action}: ${JSON.stringify(r.result)}\n`);
    });
  demo
    .command('status')
    .description('Show demo services and active faults')
    .option(...adminOption)
    .action(async (o: { adminUrl?: string }) => {
      process.stdout.write(`${JSON.stringify(await admin<unknown>(adminUrlOf(o), 'GET', '/status'), null, 2)}\n`);
    });
  return demo;
}

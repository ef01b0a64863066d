/**
 * `vigil agent --url URL --token TOKEN [--interval 10s]`: collects host metrics from /proc and sends
 * them as OTLP/HTTP protobuf to Vigil's (or any) OTLP receiver until SIGTERM or SIGINT.
 */
import { Command } from 'commander';
import { OTLPMetricExporter } from '@opentelemetry/exporter-metrics-otlp-proto';
import { parseDuration } from '../config/config.ts';
import { startHostAgent } from './agent.ts';

interface AgentOptions {
  url?: string;
  token?: string;
  interval: string;
  hostName?: string;
}

/** The `vigil agent` command. */
export function agentCommand(): Command {
  return new Command('agent')
    .description('Send this host\'s CPU, memory, swap, disk, file system, network, load and top-process metrics to Vigil over OTLP')
    .option('--url <url>', 'OTLP/HTTP base URL of Vigil, e.g. http://vigil.example:4318 (VIGIL_OTLP_URL)')
    .option('--token <token>', 'ingest token (VIGIL_TOKEN; prefer the variable: arguments are visible to other users)')
    .option('--interval <duration>', 'how often to collect and send', '10s')
    .option('--host-name <name>', 'host.name to report (default: this machine\'s host name)')
    .action(async (opts: AgentOptions) => {
      const url = opts.url ?? process.env.VIGIL_OTLP_URL;
      const token = opts.token ?? process.env.VIGIL_TOKEN;
      if (!url) {
        process.stderr.write('vigil agent: give --url (the OTLP/HTTP base URL, e.g. http://127.0.0.1:4318)\n');
        process.exit(2);
      }
      let intervalMs: number;
      try {
        intervalMs = parseDuration(opts.interval);
      } catch (err) {
        process.stderr.write(`vigil agent: --interval: ${(err as Error).message}\n`);
        process.exit(2);
      }
      if (intervalMs < 1000) {
        process.stderr.write('vigil agent: --interval: use at least 1s\n');
        process.exit(2);
      }
      const endpoint = `${url.replace(/\/+$/, '').replace(/\/v1\/metrics$/, '')}/v1/metrics`;
      const exporter = new OTLPMetricExporter({ url: endpoint, headers: token ? { Authorization: `Bearer ${token}` } : {} });
      const agent = startHostAgent({ exporter, intervalMs, hostName: opts.hostName });
      process.stdout.write(`vigil agent: sending host metrics to ${endpoint} every ${opts.interval}\n`);
      // The SDK's export timer is unref'd; this keeps the process running until a signal.
      const keepAlive = setInterval(() => undefined, 60_000);
      const shutdown = () => {
        clearInterval(keepAlive);
        void agent
          .flush()
          .catch(() => undefined)
          .then(() => agent.stop())
          .finally(() => process.exit(0));
      };
      process.once('SIGTERM', shutdown);
      process.once('SIGINT', shutdown);
    });
}

/**
 * The baseline half of `npm run bench:alerting`: Debian's Prometheus and Alertmanager tuned to the limit
 * (scrape and evaluation every 1 s, group_wait 0), each on an ephemeral loopback port with its own temp
 * directory and configuration, scraping a tiny exporter of this process. A trial flips one series above
 * the threshold; T0 is the moment the exporter starts serving the new value (the analogue of Vigil's
 * ingest acknowledgement), and the time is the webhook's receipt minus T0.
 */
import { execFileSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { freePort, sleep, startChild, summarise, trialGap, trialTiming, waitUntil, WebhookReceiver, type Child, type LatencySummary, type TrialTiming } from './harness.ts';

/** What the Prometheus side measured. */
export interface PrometheusResult {
  latency: LatencySummary;
  /** Mean duration of one evaluation of the 500-rule group, from Prometheus's own metric (ms). */
  groupEvalMs: number | null;
  /** Samples scraped per second (trial series + load series). */
  samplesPerSecond: number;
  version: string;
}

/** Options of the Prometheus side. */
export interface PrometheusOptions {
  dir: string;
  trials: number;
  rules: number;
  /** Extra series scraped every second, as the ingest load (samples/s). */
  loadSeries: number;
  warmup: number;
  /** Fresh Prometheus + Alertmanager setups the trials are spread over. */
  segments: number;
  log: (line: string) => void;
}

/** A node:http exporter whose `/metrics` serves the current values; `set` changes them from the next scrape on. */
class Exporter {
  private server: Server | undefined;
  readonly values = new Map<string, number>();
  port = 0;

  constructor(private readonly extra: () => string = () => '') {}

  async start(): Promise<void> {
    this.server = createServer((req, res) => {
      let text = '# TYPE bench_value gauge\n';
      for (const [series, value] of this.values) text += `bench_value${series} ${value}\n`;
      text += this.extra();
      res.writeHead(200, { 'content-type': 'text/plain; version=0.0.4' }).end(text);
    });
    await new Promise<void>((resolve) => this.server!.listen(0, '127.0.0.1', resolve));
    this.port = (this.server.address() as AddressInfo).port;
  }

  async stop(): Promise<void> {
    this.server?.closeAllConnections();
    await new Promise<void>((resolve) => (this.server ? this.server.close(() => resolve()) : resolve()));
  }
}

function version(text: string): string {
  return /version (\S+)/.exec(text)?.[1] ?? 'unknown';
}

/**
 * Runs the Prometheus + Alertmanager trials in `segments` segments, each with fresh processes, ports
 * and paths: Prometheus places a target's scrapes and a group's evaluations at offsets hashed from
 * the target's address and the group's file and name, so the gap between a scrape and the next
 * evaluation is fixed for one setup (anywhere from 0 to 1 s) — one setup alone would measure one
 * arbitrary gap, several sample it.
 */
export async function runPrometheus(opts: PrometheusOptions): Promise<PrometheusResult> {
  const receiver = new WebhookReceiver((labels) => (labels.trial !== undefined && labels.alertname === 'BenchValueHigh' ? `${labels.svc}/${labels.trial}` : undefined));
  await receiver.start();
  const trials: TrialTiming[] = [];
  const groupEval: number[] = [];
  let missed = 0;
  let next = 0;
  try {
    for (let seg = 0; seg < opts.segments; seg++) {
      const count = Math.floor(opts.trials / opts.segments) + (seg < opts.trials % opts.segments ? 1 : 0);
      const result = await runSegment(opts, join(opts.dir, `segment-${seg}`), receiver, next, count);
      next += count + opts.warmup;
      trials.push(...result.trials);
      missed += result.missed;
      if (result.groupEvalMs !== null) groupEval.push(result.groupEvalMs);
      const seg50 = summarise(result.trials, result.missed);
      log(opts, `  prometheus: setup ${seg + 1} of ${opts.segments}: ${result.trials.length} trials, min ${seg50.min.toFixed(0)} ms, p50 ${seg50.p50.toFixed(0)} ms, max ${seg50.max.toFixed(0)} ms`);
    }
  } finally {
    await receiver.stop();
  }
  const promVersion = version(execFileSync('prometheus', ['--version'], { encoding: 'utf8' }));
  const amVersion = version(execFileSync('prometheus-alertmanager', ['--version'], { encoding: 'utf8' }));
  return {
    latency: summarise(trials, missed),
    groupEvalMs: groupEval.length ? groupEval.reduce((a, b) => a + b, 0) / groupEval.length : null,
    samplesPerSecond: opts.rules + opts.loadSeries,
    version: `prometheus ${promVersion}, alertmanager ${amVersion}`,
  };
}

function log(opts: PrometheusOptions, line: string): void {
  opts.log(line);
}
/** One setup: exporters, Prometheus and Alertmanager started fresh, `count` trials (after the warm-up ones). */
async function runSegment(opts: PrometheusOptions, dir: string, receiver: WebhookReceiver, first: number, count: number): Promise<{ trials: TrialTiming[]; missed: number; groupEvalMs: number | null }> {
  mkdirSync(join(dir, 'prom-data'), { recursive: true });
  mkdirSync(join(dir, 'am-data'), { recursive: true });
  const trialExporter = new Exporter();
  // Every rule has its own series that exists and stays below the threshold, as in a real setup.
  for (let k = 0; k < opts.rules; k++) trialExporter.values.set(`{svc="svc-${k}",trial="none"}`, 0);
  await trialExporter.start();
  let tick = 0;
  const loadExporter = new Exporter(() => {
    // The load: `loadSeries` series whose values change on every scrape.
    tick++;
    const lines = ['# TYPE bench_load gauge'];
    for (let i = 0; i < opts.loadSeries; i++) lines.push(`bench_load{series="${i}",service="load-${i % 10}"} ${(tick * 7 + i) % 1000}`);
    return `${lines.join('\n')}\n`;
  });
  await loadExporter.start();

  const promPort = await freePort();
  const amPort = await freePort();
  // One rule per service, as on Vigil's side: rule K watches svc-K; a trial's own `trial` label keeps alerts distinct.
  const rules = Array.from({ length: opts.rules }, (_, k) => `      - alert: BenchValueHigh\n        expr: 'bench_value{svc="svc-${k}"} > 10'\n        for: 0s\n`).join('');
  writeFileSync(join(dir, 'rules.yml'), `groups:\n  - name: bench\n    interval: 1s\n    rules:\n${rules}`);
  writeFileSync(
    join(dir, 'prometheus.yml'),
    `global:
  scrape_interval: 1s
  scrape_timeout: 1s
  evaluation_interval: 1s
alerting:
  alertmanagers:
    - static_configs:
        - targets: ['127.0.0.1:${amPort}']
rule_files: ['${join(dir, 'rules.yml')}']
scrape_configs:
  - job_name: bench
    static_configs:
      - targets: ['127.0.0.1:${trialExporter.port}']
  - job_name: load
    static_configs:
      - targets: ['127.0.0.1:${loadExporter.port}']
`,
  );
  writeFileSync(
    join(dir, 'alertmanager.yml'),
    `route:
  receiver: bench
  group_by: ['...']
  group_wait: 0s
  group_interval: 1s
  repeat_interval: 1h
receivers:
  - name: bench
    webhook_configs:
      - url: '${receiver.url}'
        send_resolved: false
`,
  );

  const children: Child[] = [];
  const trials: TrialTiming[] = [];
  let missed = 0;
  let groupEvalMs: number | null = null;
  try {
    // Clustering off: a lone Alertmanager would otherwise wait for its gossip to settle before sending.
    children.push(
      startChild('alertmanager', 'prometheus-alertmanager', [`--config.file=${join(dir, 'alertmanager.yml')}`, `--storage.path=${join(dir, 'am-data')}`, `--web.listen-address=127.0.0.1:${amPort}`, '--cluster.listen-address=', '--log.level=warn'], join(dir, 'alertmanager.log')),
    );
    children.push(
      startChild('prometheus', 'prometheus', [`--config.file=${join(dir, 'prometheus.yml')}`, `--storage.tsdb.path=${join(dir, 'prom-data')}`, `--web.listen-address=127.0.0.1:${promPort}`, '--log.level=warn'], join(dir, 'prometheus.log')),
    );
    const prom = `http://127.0.0.1:${promPort}`;
    await waitUntil('Alertmanager to be ready', async () => (await fetch(`http://127.0.0.1:${amPort}/-/ready`)).ok);
    await waitUntil('Prometheus to be ready', async () => (await fetch(`${prom}/-/ready`)).ok);
    await waitUntil('Prometheus to scrape both targets and load the rules', async () => {
      const up = (await (await fetch(`${prom}/api/v1/query?query=${encodeURIComponent('sum(up)')}`)).json()) as { data: { result: { value: [number, string] }[] } };
      const loaded = (await (await fetch(`${prom}/api/v1/rules`)).json()) as { data: { groups: { rules: unknown[]; lastEvaluation: string }[] } };
      const group = loaded.data.groups[0];
      return up.data.result[0]?.value[1] === '2' && group?.rules.length === opts.rules && !group.lastEvaluation.startsWith('0001');
    });

    for (let j = 0; j < opts.warmup + count; j++) {
      const i = first + j;
      await sleep(trialGap());
      const k = i % opts.rules;
      const series = `{svc="svc-${k}",trial="${i}"}`;
      const waiting = receiver.expect(`svc-${k}/${i}`, 30_000);
      trialExporter.values.set(series, 11);
      const t0 = performance.now();
      const t0Wall = Date.now();
      try {
        const arrival = await waiting;
        if (j >= opts.warmup) trials.push(trialTiming(t0, t0Wall, arrival));
      } catch (error) {
        if (j >= opts.warmup) missed++;
        log(opts, `  trial ${i}: ${(error as Error).message}`);
      }
      // Gone from the next scrape on: Prometheus marks it stale and the alert resolves.
      trialExporter.values.delete(series);
    }

    // Prometheus's own measure of one evaluation of the rule group, averaged over the segment.
    const metrics = await (await fetch(`${prom}/metrics`)).text();
    const sum = Number(/^prometheus_rule_group_duration_seconds_sum (\S+)/m.exec(metrics)?.[1]);
    const n = Number(/^prometheus_rule_group_duration_seconds_count (\S+)/m.exec(metrics)?.[1]);
    if (n > 0) groupEvalMs = (sum / n) * 1000;
  } finally {
    for (const c of children.reverse()) await c.stop();
    await trialExporter.stop();
    await loadExporter.stop();
  }
  return { trials, missed, groupEvalMs };
}

/**
 * Vigil's half of `npm run bench:alerting`: a `vigil start` child process (no demo, no self-monitoring
 * agent, no default rules) with 500 rules in `<dataDir>/rules` — one span-count rule per service,
 * group interval 15 s so that only evaluation on commit can be fast — and `<dataDir>/alertmanager.yml`
 * routing to a loopback webhook with group_wait 0. A separate process keeps OTLP spans and logs of other
 * services flowing. A trial sends one batch that makes svc-K cross the threshold; T0 is when the OTLP
 * POST answers 200 (the acknowledgement, after the commit), and the time is the webhook's receipt minus T0.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { parsePromDuration } from '../../src/alerting/duration.ts';
import { runVigil, spawnVigil } from '../../test/helpers/vigil.ts';
import { adoptChild, sleep, summarise, trialGap, trialTiming, waitUntil, WebhookReceiver, type LatencySummary, type TrialTiming } from './harness.ts';

const ROOT = new URL('../../', import.meta.url).pathname;

/** Spans per trial batch: the rule fires above 10 in its 1-minute window. */
export const TRIAL_SPANS = 20;

/** What the Vigil side measured. */
export interface VigilResult {
  latency: LatencySummary;
  /** What the background load achieved. */
  load: { perSecond: number; ackP50: number; ackP99: number; refused: number; errors: number } | null;
  /** Acknowledgement time of the trial batches themselves (ms, p50). */
  trialAckP50: number;
  /** Rule evaluations during the whole run and their mean duration (ms), from Vigil's /metrics. */
  evaluations: { count: number; meanMs: number } | null;
}

/** Options of the Vigil side. */
export interface VigilOptions {
  dir: string;
  trials: number;
  rules: number;
  /** Background records per second (spans + logs). */
  loadRate: number;
  warmup: number;
  /** Evaluation interval of the rule groups, e.g. "15s". */
  interval: string;
  log: (line: string) => void;
}

/** Rules per group in the generated file (a realistic file has many groups, not one of 500). */
const GROUP_SIZE = 50;

/** The bench's rule file: rule K counts svc-K's spans over the last minute and fires above 10. */
export function benchRulesYaml(rules: number, interval: string): string {
  let out = '# Written by bench:alerting: one span-count rule per service.\ngroups:\n';
  for (let g = 0; g * GROUP_SIZE < rules; g++) {
    out += `  - name: bench-${g}\n    interval: ${interval}\n    rules:\n`;
    for (let k = g * GROUP_SIZE; k < Math.min(rules, (g + 1) * GROUP_SIZE); k++) {
      out += `      - alert: BenchSpanCount${k}\n        expr: 'from spans service.name=svc-${k} | stats count() as value by service.name | where value > 10'\n        range: 1m\n        for: 0s\n        labels: { severity: warning }\n`;
    }
  }
  return out;
}

/** Alertmanager-format notifications: every alert its own group, sent at once to the webhook. */
export function benchNotificationsYaml(webhookUrl: string): string {
  return `route:
  receiver: bench
  group_by: [alertname, service_name]
  group_wait: 0s
  group_interval: 1s
  repeat_interval: 1h
receivers:
  - name: bench
    webhook_configs:
      - url: '${webhookUrl}'
        send_resolved: false
`;
}

/** An OTLP/JSON request with `count` server spans of `service`, timestamped now. */
export function trialBody(service: string, count: number): string {
  const nowNs = BigInt(Date.now()) * 1_000_000n;
  const spans = Array.from({ length: count }, (_, i) => ({
    traceId: randomBytes(16).toString('hex'),
    spanId: randomBytes(8).toString('hex'),
    name: 'GET /api/items',
    kind: 2,
    startTimeUnixNano: String(nowNs - 5_000_000n + BigInt(i)),
    endTimeUnixNano: String(nowNs + BigInt(i)),
    attributes: [{ key: 'http.route', value: { stringValue: '/api/items' } }, { key: 'http.response.status_code', value: { intValue: 500 } }],
    status: { code: 2 },
  }));
  return JSON.stringify({ resourceSpans: [{ resource: { attributes: [{ key: 'service.name', value: { stringValue: service } }] }, scopeSpans: [{ scope: { name: 'bench' }, spans }] }] });
}

async function token(dir: string, scope: string): Promise<string> {
  const created = await runVigil(['token', 'create', '--name', `bench-${scope}`, '--scope', scope, '--data-dir', dir]);
  if (created.code !== 0) throw new Error(`vigil token create failed: ${created.stderr}`);
  return created.stdout.trim().split('\n').pop()!;
}

/** Runs the Vigil trials against a fresh data directory `dir`. */
export async function runVigilSide(opts: VigilOptions): Promise<VigilResult> {
  const { dir, log } = opts;
  mkdirSync(join(dir, 'rules'), { recursive: true });
  const receiver = new WebhookReceiver((labels) => (labels.alertname?.startsWith('BenchSpanCount') ? labels.service_name : undefined));
  await receiver.start();
  writeFileSync(join(dir, 'rules', 'bench.yml'), benchRulesYaml(opts.rules, opts.interval));
  writeFileSync(join(dir, 'alertmanager.yml'), benchNotificationsYaml(receiver.url));
  const ingestToken = await token(dir, 'ingest');
  const adminToken = await token(dir, 'admin');

  const vigil = await spawnVigil(['start', '--data-dir', dir, '--port', '0', '--otlp-port', '0', '--hec-port', '0'], {
    VIGIL_AGENT__SELF_MONITOR: 'false',
    VIGIL_ALERTING__DEFAULT_RULES: 'false',
  });
  const vigilChild = adoptChild('vigil', vigil.proc, vigil.exited);
  let loadChild: ReturnType<typeof adoptChild> | undefined;
  let loadOut = '';
  const latencies: TrialTiming[] = [];
  const trialAcks: number[] = [];
  let missed = 0;
  let evaluations: VigilResult['evaluations'] = null;
  const longInterval = parsePromDuration(opts.interval) > 60_000;
  try {
    const headers = { authorization: `Bearer ${adminToken}` };
    await waitUntil(
      `Vigil to load ${opts.rules} rules and evaluate each once`,
      async () => {
        const res = (await (await fetch(`${vigil.urls.api}/api/v1/rules`, { headers })).json()) as { data: { groups: { rules: { lastEvaluation: string }[] }[] } };
        const rules = res.data.groups.flatMap((g) => g.rules);
        // Prometheus's zero time (0001-01-01…) until a rule's first evaluation; a long interval (an
        // experiment without interval evaluations) is not waited for.
        return rules.length === opts.rules && (longInterval || rules.every((r) => !r.lastEvaluation.startsWith('0001')));
      },
      120_000,
    );
    const load = spawn(process.execPath, ['--import', 'tsx', join(ROOT, 'bench/alerting/load.ts'), vigil.urls.otlp, ingestToken, String(opts.loadRate)], { cwd: ROOT, stdio: ['ignore', 'pipe', 'inherit'] });
    load.stdout.on('data', (d: Buffer) => (loadOut += d.toString()));
    loadChild = adoptChild('load', load, new Promise((resolve) => load.on('exit', resolve)));
    log(`… vigil ready: ${opts.rules} rules in ${Math.ceil(opts.rules / GROUP_SIZE)} groups (interval ${opts.interval}), load ${opts.loadRate} records/s`);
    // Let the load reach its pace before the first trial.
    await sleep(3000);

    for (let i = 0; i < opts.warmup + opts.trials; i++) {
      await sleep(trialGap());
      const service = `svc-${i % opts.rules}`;
      const waiting = receiver.expect(service, 30_000);
      const sentAt = performance.now();
      const res = await fetch(`${vigil.urls.otlp}/v1/traces`, { method: 'POST', body: trialBody(service, TRIAL_SPANS), headers: { 'content-type': 'application/json', authorization: `Bearer ${ingestToken}` } });
      // T0: the acknowledgement (status line and headers in; the body is a few bytes).
      const t0 = performance.now();
      const t0Wall = Date.now();
      await res.arrayBuffer();
      if (res.status !== 200) throw new Error(`trial batch answered ${res.status}`);
      if (i >= opts.warmup) trialAcks.push(t0 - sentAt);
      try {
        const arrival = await waiting;
        // Negative if the notification beat the acknowledgement back to the client (the rules run on
        // commit, before the answers go out): kept as measured.
        if (i >= opts.warmup) latencies.push(trialTiming(t0, t0Wall, arrival));
      } catch (error) {
        if (i >= opts.warmup) missed++;
        log(`  trial ${i}: ${(error as Error).message}`);
      }
      if ((i + 1) % 10 === 0) log(`  vigil: ${i + 1} of ${opts.warmup + opts.trials} trials`);
    }
    const metrics = await (await fetch(`${vigil.urls.api}/metrics`, { headers })).text();
    const sum = Number(/^vigil_alerting_rule_evaluation_seconds_sum(?:\{[^}]*\})? (\S+)/m.exec(metrics)?.[1]);
    const count = Number(/^vigil_alerting_rule_evaluation_seconds_count(?:\{[^}]*\})? (\S+)/m.exec(metrics)?.[1]);
    if (count > 0) evaluations = { count, meanMs: (sum / count) * 1000 };
  } finally {
    if (loadChild) {
      loadChild.proc.kill('SIGTERM');
      await loadChild.exited;
    }
    await vigilChild.stop();
    await receiver.stop();
  }
  const loadLine = loadOut.trim().split('\n').pop();
  const load = loadLine ? (JSON.parse(loadLine) as VigilResult['load']) : null;
  const acks = trialAcks.sort((a, b) => a - b);
  return { latency: summarise(latencies, missed), load, trialAckP50: acks[Math.floor(acks.length / 2)] ?? Number.NaN, evaluations };
}

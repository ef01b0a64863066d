/**
 * `npm run bench:alerting` (issue 13 §11): time from the acknowledgement of the data that crosses a
 * threshold to the webhook receiving the notification, p50/p95/max over many trials with 500 rules
 * loaded and ingest under load — Vigil beside Prometheus + Alertmanager tuned to the limit (scrape and
 * evaluation 1 s, group_wait 0) measured in the same run, as a ratio — and the evaluation cost of
 * Vigil's rules per rule and per 1,000 rules over ~1M stored spans.
 *
 * Flags: --trials 50, --rules 500, --load 3000 (records/s into Vigil; as many extra series scraped by
 * Prometheus), --spans 1000000 (stored for the evaluation cost), --interval 15s (Vigil's group interval),
 * --warmup 2 (Vigil trials not counted), --segments 5 (fresh Prometheus + Alertmanager setups, one warm-up
 * trial each), --only vigil|prometheus|cost (repeatable), --keep (keep the temp directory).
 * The sides run one after the other, never at once, so they do not compete for the cores.
 */
import { mkdirSync, rmSync } from 'node:fs';
import { cpus, loadavg, totalmem } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { tempDir } from '../test/helpers/vigil.ts';
import { measureEvaluationCost, type EvaluationCost } from './alerting/cost.ts';
import type { LatencySummary } from './alerting/harness.ts';
import { runPrometheus, type PrometheusResult } from './alerting/prometheus.ts';
import { runVigilSide, type VigilResult } from './alerting/vigil.ts';

const { values } = parseArgs({
  options: {
    trials: { type: 'string', default: '50' },
    rules: { type: 'string', default: '500' },
    load: { type: 'string', default: '3000' },
    spans: { type: 'string', default: '1000000' },
    interval: { type: 'string', default: '15s' },
    warmup: { type: 'string', default: '2' },
    segments: { type: 'string', default: '5' },
    only: { type: 'string', multiple: true },
    keep: { type: 'boolean', default: false },
  },
});
const TRIALS = Number(values.trials);
const RULES = Number(values.rules);
const LOAD = Number(values.load);
const SPANS = Number(values.spans);
const WARMUP = Number(values.warmup);
const ONLY = new Set(values.only ?? ['prometheus', 'vigil', 'cost']);
if (!(TRIALS > 0 && RULES > 0 && TRIALS <= RULES)) throw new Error('--trials must be between 1 and --rules (each trial is a distinct alert of its own rule)');

function log(line: string): void {
  process.stdout.write(`${line}\n`);
}

const ms = (v: number) => (Number.isFinite(v) ? `${v.toFixed(0)} ms` : '—');

const { dir, cleanup } = tempDir('vigil-bench-alerting-');
let prometheus: PrometheusResult | undefined;
let vigil: VigilResult | undefined;
let cost: EvaluationCost | undefined;
try {
  log(`bench:alerting — ${new Date().toISOString()} — ${cpus().length} × ${cpus()[0]?.model ?? 'cpu'}, ${Math.round(totalmem() / 2 ** 30)} GiB, node ${process.version}, load average ${loadavg()[0]!.toFixed(1)}`);
  log(`${TRIALS} trials per side (Vigil +${WARMUP} warm-up; Prometheus over ${values.segments} fresh setups, +1 warm-up each), ${RULES} rules, load ${LOAD} records/s (Vigil) / ${LOAD} extra series per 1 s scrape (Prometheus)`);
  if (ONLY.has('prometheus')) {
    mkdirSync(join(dir, 'prometheus'));
    prometheus = await runPrometheus({ dir: join(dir, 'prometheus'), trials: TRIALS, rules: RULES, loadSeries: LOAD, warmup: 1, segments: Number(values.segments), log });
  }
  if (ONLY.has('vigil')) {
    mkdirSync(join(dir, 'vigil'));
    vigil = await runVigilSide({ dir: join(dir, 'vigil'), trials: TRIALS, rules: RULES, loadRate: LOAD, warmup: WARMUP, interval: values.interval!, log });
    // The latency run's data directory is not needed for the cost phase (it starts from its own).
    if (!values.keep) rmSync(join(dir, 'vigil'), { recursive: true, force: true });
  }
  if (ONLY.has('cost')) {
    mkdirSync(join(dir, 'cost'));
    cost = await measureEvaluationCost({ dir: join(dir, 'cost'), rules: RULES, spans: SPANS, log });
  }
} finally {
  log('');
  log(`load average at the end ${loadavg()[0]!.toFixed(1)}`);
  const row = (name: string, l: LatencySummary | undefined) =>
    l ? `${name.padEnd(26)} ${ms(l.p50).padStart(8)} ${ms(l.p95).padStart(8)} ${ms(l.max).padStart(8)} ${ms(l.min).padStart(8)} ${String(l.trials).padStart(7)} ${String(l.missed).padStart(7)}` : `${name.padEnd(26)} (not run)`;
  log('ack → webhook               p50      p95      max      min  trials  missed');
  log(row('vigil', vigil?.latency));
  log(row('prometheus + alertmanager', prometheus?.latency));
  const split = (name: string, l: LatencySummary | undefined) =>
    l ? log(`  ${name}: T0 → evaluation that found it (startsAt) p50 ${ms(l.toEvaluation.p50)}, p95 ${ms(l.toEvaluation.p95)}; evaluation → webhook p50 ${ms(l.toWebhook.p50)}, p95 ${ms(l.toWebhook.p95)}`) : undefined;
  split('vigil', vigil?.latency);
  split('prometheus + alertmanager', prometheus?.latency);
  if (vigil && prometheus) {
    log(`ratio vigil/prometheus      p50 ${(vigil.latency.p50 / prometheus.latency.p50).toFixed(2)}, p95 ${(vigil.latency.p95 / prometheus.latency.p95).toFixed(2)}   (goal: vigil p95 ≤ 1000 ms and ratio < 1)`);
  }
  if (vigil) {
    const l = vigil.load;
    log(`vigil: ${RULES} rules, group interval ${values.interval}; trial batch ack p50 ${ms(vigil.trialAckP50)}; background load ${l ? `${Math.round(l.perSecond)} records/s, ack p50 ${ms(l.ackP50)} p99 ${ms(l.ackP99)}, refused ${l.refused}, errors ${l.errors}` : 'unknown'}`);
    if (vigil.evaluations) log(`vigil: ${vigil.evaluations.count} rule evaluations during the run (interval and push), mean ${vigil.evaluations.meanMs.toFixed(1)} ms each`);
    log(`vigil latencies (ms): ${vigil.latency.all.map((v) => v.toFixed(0)).join(' ')}`);
  }
  if (prometheus) {
    log(`prometheus: ${prometheus.version}; ${RULES} rules in one group every 1 s, mean group evaluation ${prometheus.groupEvalMs === null ? '—' : `${prometheus.groupEvalMs.toFixed(1)} ms`}; ${prometheus.samplesPerSecond} samples/s scraped`);
    log(`prometheus latencies (ms): ${prometheus.latency.all.map((v) => v.toFixed(0)).join(' ')}`);
  }
  if (cost) {
    log('');
    log(`evaluation cost over ${cost.spans.toLocaleString('en')} stored spans (${cost.windowSpans.toLocaleString('en')} in the last minute), ${cost.rules} rules:`);
    for (const pass of cost.passes) {
      const perRule = pass.totalMs / cost.rules;
      // ms per rule × 1,000 rules / 1,000 ms per s: the same figure, read in seconds per 1,000 rules.
      log(`  ${pass.name.padEnd(38)} all rules ${pass.totalMs.toFixed(0).padStart(6)} ms (runs ${pass.runs.map((r) => r.toFixed(0)).join(', ')})   per rule ${perRule.toFixed(2).padStart(6)} ms   per 1,000 rules ${perRule.toFixed(2)} s`);
    }
    log(`  one rule's query: p50 ${cost.queryP50.toFixed(2)} ms, p95 ${cost.queryP95.toFixed(2)} ms; spans written at ${Math.round(cost.writeRate).toLocaleString('en')}/s`);
  }
  if (values.keep) log(`kept ${dir}`);
  else cleanup();
}

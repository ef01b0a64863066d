/**
 * Evaluation cost phase of `npm run bench:alerting`: an in-process Vigil (no demo, no agent, no
 * default rules) with the bench's rule file, ~1M spans written into its telemetry store, then every
 * rule evaluated once, timed three ways: through the rule manager (`evaluateAll`: evaluator, state
 * persistence and notifier hand-off, `alerting.maxConcurrent` at a time — what the server pays), the
 * evaluator alone one rule at a time, and the rule's query alone. Reported per rule and per 1,000 rules.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { evaluateRule } from '../../src/alerting/evaluator.ts';
import { createRuleSource } from '../../src/alerting/sources.ts';
import { loadConfig } from '../../src/config/config.ts';
import { duckdbDialect } from '../../src/query/dialect/duckdb.ts';
import { QueryGate } from '../../src/query/executor.ts';
import { QueryService } from '../../src/query/service.ts';
import { startVigil } from '../../src/server/app.ts';
import { quantile, waitUntil } from './harness.ts';
import { benchSpans } from './spans.ts';
import { benchRulesYaml } from './vigil.ts';

/** One timed pass over all rules. */
export interface CostPass {
  name: string;
  /** Median over the timed repetitions (ms). */
  totalMs: number;
  runs: number[];
}

/** What the cost phase measured. */
export interface EvaluationCost {
  rules: number;
  spans: number;
  /** Spans in the last minute (what each rule's window covers). */
  windowSpans: number;
  writeRate: number;
  passes: CostPass[];
  /** One rule's query alone (ms). */
  queryP50: number;
  queryP95: number;
  maxConcurrent: number;
}

/** Options of the cost phase. */
export interface CostOptions {
  dir: string;
  rules: number;
  spans: number;
  log: (line: string) => void;
}

/** Over how long the stored spans are spread (ending now). */
const SPREAD_MS = 15 * 60_000;
const RANGE_MS = 60_000;
const RUNS = 5;

async function timed(runs: number, fn: () => Promise<void>): Promise<number[]> {
  const out: number[] = [];
  for (let i = 0; i < runs; i++) {
    const t = performance.now();
    await fn();
    out.push(performance.now() - t);
  }
  return out;
}

const median = (xs: number[]) => quantile([...xs].sort((a, b) => a - b), 0.5);

/** Writes the spans, then times full evaluations of all rules. */
export async function measureEvaluationCost(opts: CostOptions): Promise<EvaluationCost> {
  const { log, dir } = opts;
  mkdirSync(join(dir, 'rules'), { recursive: true });
  // A 1 h interval keeps the groups' own timers out of the timed passes; nothing is pushed either
  // (the spans go straight into the store, not through the ingest pipeline).
  writeFileSync(join(dir, 'rules', 'bench.yml'), benchRulesYaml(opts.rules, '1h'));
  writeFileSync(join(dir, 'alertmanager.yml'), "route:\n  receiver: 'null'\nreceivers:\n  - name: 'null'\n");
  const config = loadConfig({
    env: {},
    flags: { dataDir: dir, port: 0, otlpPort: 0, hecPort: 0, logLevel: 'silent', demo: { enabled: false }, agent: { selfMonitor: false }, alerting: { defaultRules: false } },
  });
  const server = await startVigil(config);
  try {
    const manager = server.alerting.manager;
    await waitUntil(`the manager to load ${opts.rules} rules`, async () => manager.groupViews().reduce((n, g) => n + g.rules.length, 0) === opts.rules);

    // Writing takes a minute or more: the older spans first, then the last minute's share, written
    // just before the passes so that each rule's window (the last minute) holds what it would live.
    const fresh = Math.round((opts.spans * RANGE_MS) / SPREAD_MS);
    log(`… cost: writing ${opts.spans.toLocaleString('en')} spans as ${SPREAD_MS / 60_000} minutes' worth (the last minute's ${fresh.toLocaleString('en')} written last)`);
    const started = performance.now();
    const write = async (count: number, fromMs: number, toMs: number) => {
      for (const batch of benchSpans(count, opts.rules, fromMs, toMs)) await server.store.write([{ logs: [], spans: batch, metrics: [] }]);
    };
    let now = Date.now();
    await write(opts.spans - fresh, now - SPREAD_MS, now - RANGE_MS);
    now = Date.now();
    await write(fresh, now - RANGE_MS, now);
    const writeRate = opts.spans / ((performance.now() - started) / 1000);

    // The server's own query settings, for the evaluator-alone and query-alone passes.
    const queries = new QueryService(server.store, duckdbDialect, new QueryGate(config.query.maxConcurrent, config.query.maxConcurrent * 8), 30_000);
    const window = () => {
      const t = Date.now();
      return { fromNs: BigInt(t - RANGE_MS) * 1_000_000n, toNs: BigInt(t) * 1_000_000n };
    };
    const counted = await queries.search('from spans | stats count() as n', { ...window(), explainEmpty: false });
    const windowSpans = Number(counted.rows[0]?.n ?? 0);
    const rules = manager.groupViews().flatMap((g) => g.rules.map((r) => r.rule));
    const source = createRuleSource({ queries, monitors: { statuses: async () => [] } });

    log(`… cost: evaluating ${rules.length} rules (${RUNS} timed passes each way after a warm-up)`);
    const passes: CostPass[] = [];
    // Warm-up: the first pass pays for DuckDB's caches and the JIT.
    await manager.evaluateAll();
    const managerRuns = await timed(RUNS, () => manager.evaluateAll());
    passes.push({ name: `manager.evaluateAll (${config.alerting.maxConcurrent} at a time)`, totalMs: median(managerRuns), runs: managerRuns });
    const evaluatorRuns = await timed(RUNS, async () => {
      for (const rule of rules) await evaluateRule(rule, Date.now(), [], source);
    });
    passes.push({ name: 'evaluator alone, one at a time', totalMs: median(evaluatorRuns), runs: evaluatorRuns });
    const timings: number[] = [];
    const queryRuns = await timed(RUNS, async () => {
      for (const rule of rules) {
        const t = performance.now();
        if (rule.source.kind === 'query') await queries.search(rule.source.query, { ...window(), limit: 10_001, explainEmpty: false });
        timings.push(performance.now() - t);
      }
    });
    passes.push({ name: 'rule queries alone, one at a time', totalMs: median(queryRuns), runs: queryRuns });
    timings.sort((a, b) => a - b);
    return { rules: rules.length, spans: opts.spans, windowSpans, writeRate, passes, queryP50: quantile(timings, 0.5), queryP95: quantile(timings, 0.95), maxConcurrent: config.alerting.maxConcurrent };
  } finally {
    await server.stop();
  }
}

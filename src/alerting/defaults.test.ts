import { existsSync, mkdtempSync, readFileSync, rmSync, unlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { compileCondition } from './condition.ts';
import { DEFAULT_RULES_FILE, DEFAULT_RULES_YAML, writeDefaultRulesOnce } from './defaults.ts';
import { parseRuleFile } from './rule.ts';
import type { RuleSpec } from './types.ts';

const parsed = parseRuleFile(DEFAULT_RULES_FILE, DEFAULT_RULES_YAML);
const rules = new Map<string, RuleSpec>(parsed.groups.flatMap((g) => g.rules.map((r) => [r.name, r] as const)));
const rule = (name: string): RuleSpec => {
  const r = rules.get(name);
  if (!r) throw new Error(`no default rule ${name}`);
  return r;
};
const holds = (name: string, fields: Record<string, number | string | null>) => compileCondition(rule(name).condition!).evaluate(fields);
const clears = (name: string, fields: Record<string, number | string | null>) => compileCondition(rule(name).resolveWhen!).evaluate(fields);

describe('the default rules', () => {
  it('parse without error (queries planned, conditions checked against their columns)', () => {
    expect(parsed.errors).toEqual([]);
    expect([...rules.keys()]).toEqual(['HighErrorRate', 'ClientErrorSpike', 'SlowResponses', 'LatencyRegression', 'CallFanOut', 'ServiceNoData', 'MonitorDown', 'ProcessCpuHigh', 'ProcessMemoryGrowth', 'HostCpuHigh', 'HostMemoryHigh', 'HostDiskHigh', 'HostDiskFullSoon']);
  });

  it('every rule has a severity, a summary and a description', () => {
    for (const r of rules.values()) {
      expect(['critical', 'warning'], r.name).toContain(r.labels.severity);
      expect(r.annotations.summary, r.name).toBeTruthy();
      expect(r.annotations.description, r.name).toBeTruthy();
    }
  });

  it('HighErrorRate: per service and route, span errors or 5xx, a minimum volume and a lower recovery threshold', () => {
    const r = rule('HighErrorRate');
    expect(r.source.kind === 'query' && r.source.query).toMatch(/kind=server .*status = "error" or http\.response\.status_code >= 500.* by service\.name, http\.route$/);
    expect([r.rangeMs, r.forMs, r.keepFiringForMs]).toEqual([300_000, 60_000, 120_000]);
    expect(r.labels.severity).toBe('critical');
    expect(holds('HighErrorRate', { value: 0.06, n: 20 })).toBe(true);
    expect(holds('HighErrorRate', { value: 0.5, n: 19 })).toBe(false);
    expect(holds('HighErrorRate', { value: 0.04, n: 100 })).toBe(false);
    expect(clears('HighErrorRate', { value: 0.03, n: 100 })).toBe(false);
    expect(clears('HighErrorRate', { value: 0.01, n: 100 })).toBe(true);
  });

  it('ClientErrorSpike: an LMS answering 403 to 90% of registrations fires; a usual 4xx share does not', () => {
    expect(rule('ClientErrorSpike').baseline).toEqual({ windows: 12, days: 0, fillMissing: false });
    expect(holds('ClientErrorSpike', { value: 0.9, n: 200, baseline: 0.02, zscore: 40 })).toBe(true);
    // A route that always answers many 404s is at its baseline.
    expect(holds('ClientErrorSpike', { value: 0.5, n: 200, baseline: 0.48, zscore: 0.5 })).toBe(false);
    // No history yet: baseline is null, so the comparison is false.
    expect(holds('ClientErrorSpike', { value: 0.9, n: 200, baseline: null, zscore: null })).toBe(false);
    expect(holds('ClientErrorSpike', { value: 0.9, n: 5, baseline: 0.02, zscore: 40 })).toBe(false);
    expect(clears('ClientErrorSpike', { value: 0.05, n: 200, baseline: 0.02 })).toBe(true);
  });

  it('SlowResponses and LatencyRegression: p95 over 5 s, or several times its baseline', () => {
    expect(holds('SlowResponses', { value: 6000, n: 10 })).toBe(true);
    expect(holds('SlowResponses', { value: 6000, n: 9 })).toBe(false);
    expect(clears('SlowResponses', { value: 4500 })).toBe(false);
    expect(rule('LatencyRegression').baseline).toEqual({ windows: 12, days: 7, fillMissing: false });
    expect(holds('LatencyRegression', { value: 1600, n: 50, baseline: 200, zscore: 30 })).toBe(true);
    // Three times a fast endpoint's 20 ms is still fast.
    expect(holds('LatencyRegression', { value: 90, n: 50, baseline: 20, zscore: 30 })).toBe(false);
    expect(clears('LatencyRegression', { value: 300, baseline: 200 })).toBe(true);
  });

  it('CallFanOut: calls to other services per request, against the last hour', () => {
    expect(rule('CallFanOut').baseline).toEqual({ windows: 12, days: 0, fillMissing: false });
    // Login validating at every step: 0.4 calls per request → 1.75.
    expect(holds('CallFanOut', { value: 1.75, n: 300, baseline: 0.4, zscore: 40 })).toBe(true);
    // A service that calls little doubling from 0.1 to 0.3 per request; too few requests; no history.
    expect(holds('CallFanOut', { value: 0.3, n: 300, baseline: 0.1, zscore: 40 })).toBe(false);
    expect(holds('CallFanOut', { value: 1.75, n: 10, baseline: 0.4, zscore: 40 })).toBe(false);
    expect(holds('CallFanOut', { value: 1.75, n: 300, baseline: null, zscore: null })).toBe(false);
    expect(clears('CallFanOut', { value: 0.5, n: 300, baseline: 0.4 })).toBe(true);
  });

  it('ServiceNoData: fills services that vanished with 0 and fires only for one that was reporting', () => {
    const r = rule('ServiceNoData');
    expect(r.baseline).toEqual({ windows: 6, days: 0, fillMissing: true });
    expect(r.forMs).toBe(300_000);
    expect(holds('ServiceNoData', { value: 0, baseline: 120 })).toBe(true);
    expect(holds('ServiceNoData', { value: 0, baseline: 3 })).toBe(false);
    expect(holds('ServiceNoData', { value: 50, baseline: 120 })).toBe(false);
    expect(clears('ServiceNoData', { value: 1, baseline: 120 })).toBe(true);
  });

  it('ProcessCpuHigh and ProcessMemoryGrowth: the processes of a service far above their own last hour', () => {
    for (const name of ['ProcessCpuHigh', 'ProcessMemoryGrowth']) {
      const r = rule(name);
      expect(r.baseline, name).toEqual({ windows: 12, days: 0, fillMissing: false });
      expect(r.source.kind === 'metric' && r.source.metric.groupBy, name).toBe('service.name');
    }
    // A busy loop taking half a core in a service that idles at 3%.
    expect(holds('ProcessCpuHigh', { value: 0.5, baseline: 0.03, zscore: 50 })).toBe(true);
    // A service that is always busy is at its baseline; an idle one doubling is still idle.
    expect(holds('ProcessCpuHigh', { value: 0.9, baseline: 0.85, zscore: 1 })).toBe(false);
    expect(holds('ProcessCpuHigh', { value: 0.08, baseline: 0.02, zscore: 20 })).toBe(false);
    expect(holds('ProcessCpuHigh', { value: 0.5, baseline: null, zscore: null })).toBe(false);
    expect(clears('ProcessCpuHigh', { value: 0.04, baseline: 0.03 })).toBe(true);
    const mib = 1024 * 1024;
    // 130 MiB leaking to 330 MiB.
    expect(holds('ProcessMemoryGrowth', { value: 330 * mib, baseline: 130 * mib, zscore: 60 })).toBe(true);
    // A small process doubling by 40 MiB, a big one growing 10%: not a leak worth a page.
    expect(holds('ProcessMemoryGrowth', { value: 80 * mib, baseline: 40 * mib, zscore: 30 })).toBe(false);
    expect(holds('ProcessMemoryGrowth', { value: 4400 * mib, baseline: 4000 * mib, zscore: 30 })).toBe(false);
    expect(clears('ProcessMemoryGrowth', { value: 140 * mib, baseline: 130 * mib })).toBe(true);
  });

  it('MonitorDown and the host rules read monitors and host metrics', () => {
    expect(rule('MonitorDown').source).toEqual({ kind: 'monitor', monitor: { states: ['down'] } });
    expect(rule('MonitorDown').labels.severity).toBe('critical');
    expect(rule('HostCpuHigh')).toMatchObject({ source: { kind: 'metric', metric: { name: 'system.cpu.utilization', where: { 'cpu.mode': 'idle' }, groupBy: 'host.name' } }, rangeMs: 120_000, forMs: 600_000, condition: 'value < 0.1', resolveWhen: 'value > 0.2' });
    expect(rule('HostMemoryHigh')).toMatchObject({ source: { metric: { name: 'system.memory.utilization', where: { 'system.memory.state': 'used' } } }, forMs: 300_000, condition: 'value > 0.9' });
    expect(rule('HostDiskHigh')).toMatchObject({ source: { metric: { name: 'system.filesystem.utilization', groupBy: 'system.filesystem.mountpoint' } }, condition: 'value > 0.85' });
    expect(rule('HostDiskFullSoon')).toMatchObject({ source: { metric: { agg: 'predict_linear', horizonMs: 86_400_000 } }, rangeMs: 6 * 3_600_000, forMs: 1_800_000, condition: 'value >= 1' });
  });
});

describe('writeDefaultRulesOnce', () => {
  let dir: string;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'vigil-default-rules-'));
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it('writes defaults.yml into a new directory, once: a deleted file does not come back', () => {
    const rulesDir = join(dir, 'rules');
    expect(writeDefaultRulesOnce(rulesDir)).toBe(true);
    expect(readFileSync(join(rulesDir, 'defaults.yml'), 'utf8')).toBe(DEFAULT_RULES_YAML);
    unlinkSync(join(rulesDir, 'defaults.yml'));
    expect(writeDefaultRulesOnce(rulesDir)).toBe(false);
    expect(existsSync(join(rulesDir, 'defaults.yml'))).toBe(false);
  });

  it('leaves an edited defaults.yml alone', () => {
    writeDefaultRulesOnce(dir);
    writeFileSync(join(dir, 'defaults.yml'), '# mine\ngroups: []\n');
    writeDefaultRulesOnce(dir);
    expect(readFileSync(join(dir, 'defaults.yml'), 'utf8')).toBe('# mine\ngroups: []\n');
  });

  it('adds nothing to a directory that already holds rule files', () => {
    writeFileSync(join(dir, 'team.yml'), 'groups: []\n');
    expect(writeDefaultRulesOnce(dir)).toBe(false);
    expect(existsSync(join(dir, 'defaults.yml'))).toBe(false);
    expect(writeDefaultRulesOnce(dir)).toBe(false);
  });
});

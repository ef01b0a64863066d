import { describe, expect, it } from 'vitest';
import { describeSource, predictLinear, quantileOf, ruleQueryText } from './sources.ts';

describe('source helpers', () => {
  it('reads quantile aggregations', () => {
    expect(['p50', 'p95', 'p99', 'p99.9', 'p0', 'p100', 'avg', 'p'].map(quantileOf)).toEqual([0.5, 0.95, 0.99, 0.999, null, null, null, null]);
  });

  it('fits a least-squares line and projects it', () => {
    expect(predictLinear([[0, 1], [10, 2], [20, 3]], 40)).toBeCloseTo(5, 12);
    // Noise around y = 2x: the projection stays on the trend.
    expect(predictLinear([[0, 0.1], [1, 1.9], [2, 4.1], [3, 5.9]], 10)).toBeCloseTo(19.66, 10);
    expect(predictLinear([[5, 3], [5, 4]], 10)).toBe(3.5);
    expect(predictLinear([[0, 1]], 10)).toBeNull();
  });

  it('counts raw event queries, keeps aggregations, refuses timecharts and bad queries', () => {
    expect(ruleQueryText('severity>=ERROR service.name=rms-api')).toBe('severity>=ERROR service.name=rms-api | stats count() as value');
    expect(ruleQueryText('from spans | stats count() as value by service.name')).toBe('from spans | stats count() as value by service.name');
    expect(() => ruleQueryText('from spans | timechart count()')).toThrow(/timechart/);
    expect(() => ruleQueryText('from spans | stats')).toThrow();
  });

  it('renders a source on one line', () => {
    expect(describeSource({ source: { kind: 'query', expr: 'from spans | stats count()', query: 'x' } })).toBe('from spans | stats count()');
    expect(describeSource({ source: { kind: 'metric', metric: { name: 'system.cpu.utilization', agg: 'avg', service: 'node', where: { state: 'user' }, groupBy: 'host.name' } } })).toBe(
      'metric avg(system.cpu.utilization{service="node", state="user"}) by host.name',
    );
    expect(describeSource({ source: { kind: 'monitor', monitor: { system: 'rms', states: ['down', 'degraded'] } } })).toBe('monitor system=rms in down|degraded');
  });
});

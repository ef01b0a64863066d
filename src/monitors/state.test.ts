import { describe, expect, it } from 'vitest';
import { transition, type MonitorState } from './state.ts';
import type { CheckStatus } from './result.ts';

describe('transition', () => {
  // [from, failures before, result, retries] → [to, failures after, changed, retrying]
  const table: [MonitorState, number, CheckStatus, number, MonitorState, number, boolean, boolean][] = [
    ['pending', 0, 'up', 0, 'up', 0, true, false],
    ['pending', 0, 'degraded', 0, 'degraded', 0, true, false],
    ['pending', 0, 'down', 0, 'down', 1, true, false],
    ['pending', 0, 'down', 2, 'pending', 1, false, true],
    ['pending', 2, 'down', 2, 'down', 3, true, false],
    ['up', 0, 'up', 0, 'up', 0, false, false],
    ['up', 0, 'down', 1, 'up', 1, false, true],
    ['up', 1, 'down', 1, 'down', 2, true, false],
    ['up', 1, 'up', 1, 'up', 0, false, false],
    ['up', 0, 'degraded', 3, 'degraded', 0, true, false],
    ['degraded', 0, 'down', 1, 'degraded', 1, false, true],
    ['degraded', 1, 'down', 1, 'down', 2, true, false],
    ['degraded', 0, 'up', 0, 'up', 0, true, false],
    ['down', 5, 'down', 3, 'down', 6, false, false],
    ['down', 5, 'up', 3, 'up', 0, true, false],
    ['down', 5, 'degraded', 3, 'degraded', 0, true, false],
  ];
  it.each(table)('%s (failures %i) + %s, retries %i → %s', (from, failures, result, retries, to, after, changed, retrying) => {
    expect(transition({ state: from, failures }, result, retries)).toEqual({ state: to, failures: after, changed, retrying });
  });

  it('absorbs a flapping target with retries: alternate up/down never reaches down', () => {
    let s = { state: 'pending' as MonitorState, failures: 0 };
    const seen = new Set<MonitorState>();
    for (let i = 0; i < 20; i++) {
      s = transition(s, i % 2 ? 'down' : 'up', 1);
      seen.add(s.state);
    }
    expect([...seen]).toEqual(['up']);
  });
});

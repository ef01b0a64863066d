import { describe, expect, it } from 'vitest';
import { FLAP_DAMPING_MS, FLAP_START, FLAP_WINDOW_MS, newInstance, nextState, transition, updateFlap, type StepInput } from './state.ts';
import type { AlertInstance, AlertState } from './types.ts';

const NOW = 1_000_000_000;
const MIN = 60_000;

function at(state: AlertState, o: Partial<AlertInstance> = {}): AlertInstance {
  return { ...newInstance('r', 'f', { alertname: 'A' }, NOW - 10 * MIN), state, ...o };
}

describe('nextState: every row of the truth table', () => {
  // [name, from, instance extras, holds, clear, forMs, keepMs, expected]
  const table: [string, AlertState, Partial<AlertInstance>, boolean, boolean, number, number, AlertState][] = [
    ['inactive stays inactive without the condition', 'inactive', {}, false, true, MIN, 0, 'inactive'],
    ['inactive fires at once with for 0', 'inactive', {}, true, false, 0, 0, 'firing'],
    ['inactive becomes pending with for > 0', 'inactive', {}, true, false, MIN, 0, 'pending'],
    ['pending drops when the condition stops', 'pending', { activeAt: NOW - 30_000 }, false, true, MIN, 0, 'inactive'],
    ['pending fires once held for `for`', 'pending', { activeAt: NOW - MIN }, true, false, MIN, 0, 'firing'],
    ['pending waits while held for less than `for`', 'pending', { activeAt: NOW - MIN + 1 }, true, false, MIN, 0, 'pending'],
    ['firing stays firing while not clear', 'firing', { lastSeenAt: NOW - 5 * MIN }, true, false, 0, 0, 'firing'],
    ['firing stays firing between the thresholds (hysteresis)', 'firing', { lastSeenAt: NOW - 5 * MIN }, false, false, 0, 0, 'firing'],
    ['firing keeps firing within keep_firing_for', 'firing', { lastSeenAt: NOW - MIN }, false, true, 0, 2 * MIN, 'firing'],
    ['firing resolves after keep_firing_for', 'firing', { lastSeenAt: NOW - 2 * MIN }, false, true, 0, 2 * MIN, 'resolved'],
    ['firing resolves at once without keep_firing_for', 'firing', { lastSeenAt: NOW - 1 }, false, true, 0, 0, 'resolved'],
    ['resolved stays resolved without the condition', 'resolved', {}, false, true, MIN, 0, 'resolved'],
    ['resolved fires again at once with for 0', 'resolved', {}, true, false, 0, 0, 'firing'],
    ['resolved becomes pending with for > 0', 'resolved', {}, true, false, MIN, 0, 'pending'],
  ];
  for (const [name, from, extra, holds, clear, forMs, keepFiringForMs, expected] of table) {
    it(name, () => {
      expect(nextState(at(from, extra), { holds, clear, now: NOW, forMs, keepFiringForMs })).toBe(expected);
    });
  }

  it('a flapping firing alert waits for the damping period before it resolves', () => {
    const flapping = { changes: [NOW - 1000], flapping: true };
    const input = { holds: false, clear: true, now: NOW, forMs: 0, keepFiringForMs: 0 };
    expect(nextState(at('firing', { lastSeenAt: NOW - FLAP_DAMPING_MS + 1, flap: flapping }), input)).toBe('firing');
    expect(nextState(at('firing', { lastSeenAt: NOW - FLAP_DAMPING_MS, flap: flapping }), input)).toBe('resolved');
    // A longer keep_firing_for still wins over the damping period.
    expect(nextState(at('firing', { lastSeenAt: NOW - FLAP_DAMPING_MS, flap: flapping }), { ...input, keepFiringForMs: 2 * FLAP_DAMPING_MS })).toBe('firing');
  });
});

describe('transition: bookkeeping', () => {
  const step = (i: AlertInstance, o: Partial<StepInput>) => transition(i, { holds: true, clear: false, now: NOW, forMs: 0, keepFiringForMs: 0, ...o });

  it('sets activeAt, firedAt, resolvedAt and lastSeenAt as the table says', () => {
    const pending = step(at('inactive'), { forMs: MIN, value: 3 });
    expect(pending).toMatchObject({ state: 'pending', activeAt: NOW, firedAt: null, lastSeenAt: NOW, value: 3, lastEvalAt: NOW });
    const firing = step(pending, { now: NOW + MIN, forMs: MIN, value: 4 });
    expect(firing).toMatchObject({ state: 'firing', activeAt: NOW, firedAt: NOW + MIN, lastSeenAt: NOW + MIN, value: 4 });
    // Between the thresholds: still seen (keep_firing_for counts from recovery, not from the last crossing).
    const band = step(firing, { now: NOW + 2 * MIN, holds: false, clear: false });
    expect(band).toMatchObject({ state: 'firing', lastSeenAt: NOW + 2 * MIN, value: 4 });
    const kept = step(band, { now: NOW + 3 * MIN, holds: false, clear: true, keepFiringForMs: 2 * MIN, value: 1 });
    expect(kept).toMatchObject({ state: 'firing', lastSeenAt: NOW + 2 * MIN, value: 1 });
    const resolved = step(kept, { now: NOW + 4 * MIN, holds: false, clear: true, keepFiringForMs: 2 * MIN, value: 0 });
    expect(resolved).toMatchObject({ state: 'resolved', resolvedAt: NOW + 4 * MIN, firedAt: NOW + MIN });
    const again = step(resolved, { now: NOW + 5 * MIN, forMs: MIN });
    expect(again).toMatchObject({ state: 'pending', activeAt: NOW + 5 * MIN, firedAt: null, resolvedAt: null });
  });

  it('keeps the last value when the label set had no row', () => {
    const firing = step(at('inactive'), { value: 7 });
    expect(step(firing, { holds: false, clear: true, keepFiringForMs: MIN }).value).toBe(7);
  });

  it('does not change the instance it is given', () => {
    const before = at('pending', { activeAt: NOW - MIN });
    const copy = structuredClone(before);
    step(before, { forMs: MIN });
    expect(before).toEqual(copy);
  });

  it('counts firing and resolved entries as flap changes, and only those', () => {
    let i = step(at('inactive'), { forMs: MIN });
    expect(i.flap.changes).toEqual([]);
    i = step(i, { now: NOW + MIN, forMs: MIN });
    expect(i.flap.changes).toEqual([NOW + MIN]);
    i = step(i, { now: NOW + 2 * MIN, holds: false, clear: true });
    expect(i.flap.changes).toEqual([NOW + MIN, NOW + 2 * MIN]);
  });
});

describe('flap detection', () => {
  it('starts at 6 changes within the hour and stops at 2 or fewer (hysteresis)', () => {
    let flap = { changes: [] as number[], flapping: false };
    for (let k = 0; k < FLAP_START - 1; k++) flap = updateFlap(flap, NOW + k * MIN, true);
    expect(flap.flapping).toBe(false);
    flap = updateFlap(flap, NOW + 5 * MIN, true);
    expect(flap).toMatchObject({ flapping: true });
    expect(flap.changes).toHaveLength(6);
    // Three changes left in the window: still flapping.
    flap = updateFlap(flap, NOW + 2 * MIN + FLAP_WINDOW_MS, false);
    expect(flap.changes).toHaveLength(3);
    expect(flap.flapping).toBe(true);
    flap = updateFlap(flap, NOW + 3 * MIN + FLAP_WINDOW_MS, false);
    expect(flap.changes).toHaveLength(2);
    expect(flap.flapping).toBe(false);
  });

  it('a rule crossing its threshold every minute notifies far less than once per crossing', () => {
    let i = at('inactive');
    let notifications = 0;
    for (let m = 0; m < 120; m++) {
      const holds = m % 2 === 0;
      const next = transition(i, { holds, clear: !holds, now: NOW + m * MIN, forMs: 0, keepFiringForMs: 0 });
      if (next.state !== i.state && (next.state === 'firing' || next.state === 'resolved')) notifications++;
      i = next;
    }
    // Without damping: 120 changes. With it: flapping after the 6th (a resolve), one more firing,
    // then the alert stays firing for the remaining 113 minutes of crossings.
    expect(notifications).toBe(FLAP_START + 1);
    expect(i).toMatchObject({ state: 'firing' });
    expect(i.flap.flapping).toBe(true);
  });

  it('a damped alert resolves once it has stayed clear for the damping period', () => {
    let i = at('inactive');
    let m = 0;
    for (; m < 10; m++) i = transition(i, { holds: m % 2 === 0, clear: m % 2 !== 0, now: NOW + m * MIN, forMs: 0, keepFiringForMs: 0 });
    expect(i.flap.flapping).toBe(true);
    let resolvedAt: number | null = null;
    for (; m < 40 && resolvedAt === null; m++) {
      i = transition(i, { holds: false, clear: true, now: NOW + m * MIN, forMs: 0, keepFiringForMs: 0 });
      if (i.state === 'resolved') resolvedAt = NOW + m * MIN;
    }
    // Last held at minute 8: resolved ten minutes later.
    expect(resolvedAt).toBe(NOW + 18 * MIN);
  });
});

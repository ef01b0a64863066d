/**
 * The alert state machine: one enum (types.ts `AlertState`) and one pure transition function, with
 * flap detection and damping. Time is passed in; nothing here reads a clock.
 *
 * Inputs per evaluation and instance: `holds` (the firing condition is true for the instance's row),
 * `clear` (the recovery condition is true: `resolve_when`, or without it `!holds`; an instance whose
 * label set has no row at all is clear and does not hold), `now`, `for` and `keep_firing_for`.
 *
 * Truth table (first matching row wins; `keep` is keep_firing_for, raised to {@link FLAP_DAMPING_MS}
 * while the instance is flapping):
 *
 *   from      | holds | clear | extra condition              | to        | changes
 *   ----------+-------+-------+------------------------------+-----------+--------------------------------
 *   inactive  | no    | –     |                              | inactive  | (dropped)
 *   inactive  | yes   | –     | for = 0                      | firing    | activeAt = firedAt = now
 *   inactive  | yes   | –     | for > 0                      | pending   | activeAt = now
 *   pending   | no    | –     |                              | inactive  | (dropped)
 *   pending   | yes   | –     | now - activeAt >= for        | firing    | firedAt = now
 *   pending   | yes   | –     | now - activeAt <  for        | pending   |
 *   firing    | –     | no    |                              | firing    | lastSeenAt = now
 *   firing    | –     | yes   | now - lastSeenAt <  keep     | firing    |
 *   firing    | –     | yes   | now - lastSeenAt >= keep     | resolved  | resolvedAt = now
 *   resolved  | no    | –     |                              | resolved  | (dropped by the evaluator after retention)
 *   resolved  | yes   | –     | for = 0                      | firing    | activeAt = firedAt = now, resolvedAt = null
 *   resolved  | yes   | –     | for > 0                      | pending   | activeAt = now, resolvedAt = null
 *
 * `lastSeenAt` is the last evaluation at which a firing alert was not clear (for a pending one: at which
 * its condition held). Without `resolve_when` that is exactly "the condition held"; with it, an alert
 * between the two thresholds counts as seen, so `keep_firing_for` runs from the moment it recovered,
 * not from the last time it crossed the firing threshold.
 *
 * Flap detection: every entry into `firing` and every entry into `resolved` is a change; changes older
 * than {@link FLAP_WINDOW_MS} are forgotten. An instance starts flapping at {@link FLAP_START} changes
 * within the window and stops at {@link FLAP_STOP} or fewer (hysteresis, so the flag itself does not
 * flap). While flapping, a firing alert resolves only after it has been clear for the damping period:
 * a rule hovering at its threshold then notifies once, not on every crossing. The crossings damping
 * hides (a flapping firing alert turning clear, or turning not clear again) count as changes too, so
 * an alert keeps flapping for as long as its condition keeps flipping.
 */
import type { AlertInstance, AlertState, FlapState, Labels } from './types.ts';

/** The window flap changes are counted over. */
export const FLAP_WINDOW_MS = 3_600_000;
/** Changes within the window at which an instance starts flapping. */
export const FLAP_START = 6;
/** Changes within the window at or below which a flapping instance stops flapping. */
export const FLAP_STOP = 2;
/** How long a flapping firing alert must stay clear before it resolves. */
export const FLAP_DAMPING_MS = 600_000;

/** What one evaluation says about one instance. */
export interface StepInput {
  holds: boolean;
  clear: boolean;
  now: number;
  forMs: number;
  keepFiringForMs: number;
  /** The row's value; undefined when the label set had no row (the last value is kept). */
  value?: number | null;
}

/** An instance that does not exist yet: the `inactive` starting point of a label set seen for the first time. */
export function newInstance(ruleId: string, fingerprint: string, labels: Labels, now: number): AlertInstance {
  return {
    ruleId,
    fingerprint,
    labels,
    annotations: {},
    state: 'inactive',
    value: null,
    activeAt: now,
    firedAt: null,
    resolvedAt: null,
    lastSeenAt: now,
    lastEvalAt: now,
    flap: { changes: [], flapping: false },
  };
}

/** Flap memory after an optional change at `now`: old changes forgotten, the flag with hysteresis. */
export function updateFlap(flap: FlapState, now: number, changed: boolean): FlapState {
  const changes = flap.changes.filter((t) => now - t < FLAP_WINDOW_MS);
  if (changed) changes.push(now);
  const flapping = flap.flapping ? changes.length > FLAP_STOP : changes.length >= FLAP_START;
  return { changes, flapping };
}

/** The state an instance moves to (the truth table of the module comment, without the bookkeeping). */
export function nextState(instance: Pick<AlertInstance, 'state' | 'activeAt' | 'lastSeenAt' | 'flap'>, input: StepInput): AlertState {
  const { holds, clear, now, forMs } = input;
  switch (instance.state) {
    case 'inactive':
    case 'resolved':
      if (!holds) return instance.state;
      return forMs <= 0 ? 'firing' : 'pending';
    case 'pending':
      if (!holds) return 'inactive';
      return now - instance.activeAt >= forMs ? 'firing' : 'pending';
    case 'firing': {
      if (!clear) return 'firing';
      // Damping: a flapping alert must stay clear for the damping period before it resolves.
      const keep = instance.flap.flapping ? Math.max(input.keepFiringForMs, FLAP_DAMPING_MS) : input.keepFiringForMs;
      return now - instance.lastSeenAt < keep ? 'firing' : 'resolved';
    }
  }
}

/** Moves one instance through one evaluation; returns a new instance (the input is not changed). */
export function transition(instance: AlertInstance, input: StepInput): AlertInstance {
  const { now } = input;
  const to = nextState(instance, input);
  const from = instance.state;
  const next: AlertInstance = { ...instance, state: to, lastEvalAt: now, value: input.value === undefined ? instance.value : input.value };
  if (from !== to && (from === 'inactive' || from === 'resolved')) {
    // A new activation: the previous firing's times no longer describe this one.
    next.activeAt = now;
    next.firedAt = null;
    next.resolvedAt = null;
  }
  if (to === 'firing' && from !== 'firing') next.firedAt = now;
  if (to === 'resolved' && from !== 'resolved') next.resolvedAt = now;
  if ((to === 'pending' && input.holds) || (to === 'firing' && (from !== 'firing' || !input.clear))) next.lastSeenAt = now;
  // While damped, the crossings the damping hides still count: otherwise a rule hovering at its
  // threshold would stop "flapping" an hour after damping began and notify on every change again.
  const wasClear = instance.lastSeenAt < instance.lastEvalAt;
  const hidden = from === 'firing' && to === 'firing' && instance.flap.flapping && input.clear !== wasClear;
  const changed = (from !== to && (to === 'firing' || to === 'resolved')) || hidden;
  next.flap = updateFlap(instance.flap, now, changed);
  return next;
}

/**
 * The monitor state machine: one enum and one transition function. Retries absorb flapping: a failed
 * check only makes a monitor down once `retries` further checks have failed too; until then the
 * monitor keeps its state (and is checked again after `retryInterval`).
 *
 *   state \ check result | up | degraded | down, failures <= retries | down, failures > retries
 *   ---------------------|----|----------|----------------------------|---------------------------
 *   pending              | up | degraded | pending                    | down
 *   up                   | up | degraded | up (retrying)              | down
 *   degraded             | up | degraded | degraded (retrying)        | down
 *   down                 | up | degraded | down                       | down
 *
 * `failures` counts consecutive down results including this one; up and degraded reset it to 0.
 * A state change is any row where the new state differs from the old one.
 */
import type { CheckStatus } from './result.ts';

/** A monitor's state; pending until the first conclusive result. */
export type MonitorState = 'pending' | 'up' | 'degraded' | 'down';

/** What the machine remembers between checks. */
export interface MachineState {
  state: MonitorState;
  failures: number;
}

/** The state after one check result, and whether it changed and whether the monitor is retrying. */
export interface Transition extends MachineState {
  changed: boolean;
  retrying: boolean;
}

/** Applies one check result; pure. */
export function transition(prev: MachineState, result: CheckStatus, retries: number): Transition {
  if (result !== 'down') return { state: result, failures: 0, changed: prev.state !== result, retrying: false };
  const failures = prev.failures + 1;
  if (failures > retries || prev.state === 'down') return { state: 'down', failures, changed: prev.state !== 'down', retrying: false };
  return { state: prev.state, failures, changed: false, retrying: true };
}

/** The initial state of a new monitor. */
export const INITIAL_STATE: MachineState = { state: 'pending', failures: 0 };

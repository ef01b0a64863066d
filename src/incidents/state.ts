/**
 * The incident state machine (DESIGN.md §9): one enum and one pure transition function, with the
 * truth table here. Time is passed in; nothing here reads a clock.
 *
 * Transitions allowed (row: from, columns: to; `x` allowed, `.` refused):
 *
 *   from \ to     | ack | inv | ident | mon | resolved | closed | reopened
 *   --------------+-----+-----+-------+-----+----------+--------+---------
 *   triggered     |  x  |  x  |   x   |  x  |    x     |   .    |    .
 *   acknowledged  |  .  |  x  |   x   |  x  |    x     |   .    |    .
 *   investigating |  .  |  .  |   x   |  x  |    x     |   .    |    .
 *   identified    |  .  |  x  |   .   |  x  |    x     |   .    |    .
 *   monitoring    |  .  |  x  |   x   |  .  |    x     |   .    |    .
 *   resolved      |  .  |  .  |   .   |  .  |    .     |   x    |    x
 *   closed        |  .  |  .  |   .   |  .  |    .     |   .    |    x
 *   reopened      |  x  |  x  |   x   |  x  |    x     |   .    |    .
 *
 * Nothing goes back to `triggered` (only opening an incident enters it) and nothing stays in place (a
 * status change that changes nothing is refused, so the timeline never holds an empty change). Every
 * open state may resolve; `closed` only follows `resolved`; acknowledging is only for an incident nobody
 * has picked up yet (`triggered`, or `reopened` after it came back). `identified` and `monitoring` may
 * go back to `investigating`: a cause that turns out wrong, a fix that did not hold.
 *
 * Timestamps the transition keeps:
 *
 *   acknowledgedAt  the first move out of triggered into acknowledged|investigating|identified|monitoring
 *                   (someone took it up; MTTA = acknowledgedAt − openedAt); never changed afterwards
 *   resolvedAt      set on every move to resolved (MTTR = resolvedAt − openedAt); cleared by reopened
 *   closedAt        set on the move to closed; cleared by reopened
 */

/** The states of an incident. */
export const INCIDENT_STATUSES = ['triggered', 'acknowledged', 'investigating', 'identified', 'monitoring', 'resolved', 'closed', 'reopened'] as const;

/** An incident's state. */
export type IncidentStatus = (typeof INCIDENT_STATUSES)[number];

/** States in which the incident is still being worked on. */
export const OPEN_STATUSES: readonly IncidentStatus[] = ['triggered', 'acknowledged', 'investigating', 'identified', 'monitoring', 'reopened'];

const ALLOWED: Record<IncidentStatus, readonly IncidentStatus[]> = {
  triggered: ['acknowledged', 'investigating', 'identified', 'monitoring', 'resolved'],
  acknowledged: ['investigating', 'identified', 'monitoring', 'resolved'],
  investigating: ['identified', 'monitoring', 'resolved'],
  identified: ['investigating', 'monitoring', 'resolved'],
  monitoring: ['investigating', 'identified', 'resolved'],
  resolved: ['closed', 'reopened'],
  closed: ['reopened'],
  reopened: ['acknowledged', 'investigating', 'identified', 'monitoring', 'resolved'],
};

// Moves that mean a person has taken the incident up (they set acknowledgedAt the first time).
const ENGAGED: ReadonlySet<IncidentStatus> = new Set(['acknowledged', 'investigating', 'identified', 'monitoring']);

/** Whether a string is an incident state. */
export function isIncidentStatus(s: unknown): s is IncidentStatus {
  return typeof s === 'string' && (INCIDENT_STATUSES as readonly string[]).includes(s);
}

/** Whether an incident in this state is open (not resolved or closed). */
export function isOpen(status: IncidentStatus): boolean {
  return OPEN_STATUSES.includes(status);
}

/** The states an incident may move to from `from`. */
export function allowedTransitions(from: IncidentStatus): readonly IncidentStatus[] {
  return ALLOWED[from];
}

/** The part of an incident the state machine reads and writes (epoch ms). */
export interface IncidentClock {
  status: IncidentStatus;
  openedAt: number;
  acknowledgedAt: number | null;
  resolvedAt: number | null;
  closedAt: number | null;
}

/** The answer of {@link transition}: the next state with its timestamps, or a refusal naming the allowed moves. */
export type TransitionResult = { ok: true; next: IncidentClock } | { ok: false; allowed: readonly IncidentStatus[]; message: string };

/** Moves an incident to `to` at `at`, if the table above allows it. */
export function transition(current: IncidentClock, to: IncidentStatus, at: number): TransitionResult {
  const allowed = ALLOWED[current.status];
  if (!allowed.includes(to)) {
    const list = allowed.length ? allowed.join(', ') : 'none';
    return { ok: false, allowed, message: `an incident that is ${current.status} cannot become ${to} (allowed: ${list})` };
  }
  const next: IncidentClock = { ...current, status: to };
  if (ENGAGED.has(to) && next.acknowledgedAt === null) next.acknowledgedAt = at;
  if (to === 'resolved') next.resolvedAt = at;
  if (to === 'closed') next.closedAt = at;
  if (to === 'reopened') {
    next.resolvedAt = null;
    next.closedAt = null;
  }
  return { ok: true, next };
}

/** Time to acknowledge (ms), or null while nobody has. */
export function mtta(c: IncidentClock): number | null {
  return c.acknowledgedAt === null ? null : Math.max(0, c.acknowledgedAt - c.openedAt);
}

/** Time to resolve (ms), or null while unresolved. */
export function mttr(c: IncidentClock): number | null {
  return c.resolvedAt === null ? null : Math.max(0, c.resolvedAt - c.openedAt);
}

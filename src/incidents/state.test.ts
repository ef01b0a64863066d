import { describe, expect, it } from 'vitest';
import { allowedTransitions, INCIDENT_STATUSES, isOpen, mtta, mttr, transition, type IncidentClock, type IncidentStatus } from './state.ts';

const OPENED = 1_000_000;
const clock = (status: IncidentStatus, o: Partial<IncidentClock> = {}): IncidentClock => ({ status, openedAt: OPENED, acknowledgedAt: null, resolvedAt: null, closedAt: null, ...o });

// The truth table of state.ts, row by row: which target states each state accepts.
const TABLE: Record<IncidentStatus, IncidentStatus[]> = {
  triggered: ['acknowledged', 'investigating', 'identified', 'monitoring', 'resolved'],
  acknowledged: ['investigating', 'identified', 'monitoring', 'resolved'],
  investigating: ['identified', 'monitoring', 'resolved'],
  identified: ['investigating', 'monitoring', 'resolved'],
  monitoring: ['investigating', 'identified', 'resolved'],
  resolved: ['closed', 'reopened'],
  closed: ['reopened'],
  reopened: ['acknowledged', 'investigating', 'identified', 'monitoring', 'resolved'],
};

describe('transition: every cell of the truth table', () => {
  for (const from of INCIDENT_STATUSES) {
    for (const to of INCIDENT_STATUSES) {
      const expected = TABLE[from].includes(to);
      it(`${from} → ${to} is ${expected ? 'allowed' : 'refused'}`, () => {
        const r = transition(clock(from), to, OPENED + 1000);
        expect(r.ok).toBe(expected);
        if (r.ok) expect(r.next.status).toBe(to);
        else {
          expect([...r.allowed]).toEqual(TABLE[from]);
          expect(r.message).toContain(`cannot become ${to}`);
        }
      });
    }
  }
  it('allowedTransitions answers the same rows', () => {
    for (const from of INCIDENT_STATUSES) expect([...allowedTransitions(from)]).toEqual(TABLE[from]);
  });
  it('every open state may resolve; closed only follows resolved; acknowledge only from triggered or reopened', () => {
    for (const s of INCIDENT_STATUSES) {
      expect(transition(clock(s), 'resolved', OPENED).ok).toBe(isOpen(s));
      expect(transition(clock(s), 'closed', OPENED).ok).toBe(s === 'resolved');
      expect(transition(clock(s), 'acknowledged', OPENED).ok).toBe(s === 'triggered' || s === 'reopened');
    }
  });
});

describe('MTTA and MTTR timestamps', () => {
  it('acknowledging sets acknowledgedAt once; MTTA is from the opening', () => {
    const a = transition(clock('triggered'), 'acknowledged', OPENED + 60_000);
    expect(a.ok && a.next.acknowledgedAt).toBe(OPENED + 60_000);
    if (!a.ok) return;
    expect(mtta(a.next)).toBe(60_000);
    const b = transition(a.next, 'investigating', OPENED + 120_000);
    expect(b.ok && b.next.acknowledgedAt).toBe(OPENED + 60_000);
  });
  it('going straight to investigating counts as acknowledging; resolving straight from triggered does not', () => {
    const a = transition(clock('triggered'), 'investigating', OPENED + 5000);
    expect(a.ok && a.next.acknowledgedAt).toBe(OPENED + 5000);
    const r = transition(clock('triggered'), 'resolved', OPENED + 5000);
    expect(r.ok && r.next.acknowledgedAt).toBeNull();
    expect(r.ok && mttr(r.next)).toBe(5000);
  });
  it('reopening clears resolvedAt and closedAt; resolving again sets the new MTTR', () => {
    let c = clock('closed', { acknowledgedAt: OPENED + 1, resolvedAt: OPENED + 10, closedAt: OPENED + 20 });
    const re = transition(c, 'reopened', OPENED + 30);
    expect(re.ok).toBe(true);
    if (!re.ok) return;
    c = re.next;
    expect([c.resolvedAt, c.closedAt, c.acknowledgedAt]).toEqual([null, null, OPENED + 1]);
    expect(mttr(c)).toBeNull();
    const r = transition(c, 'resolved', OPENED + 50);
    expect(r.ok && mttr(r.next)).toBe(50);
    const cl = transition(r.ok ? r.next : c, 'closed', OPENED + 60);
    expect(cl.ok && cl.next.closedAt).toBe(OPENED + 60);
  });
});

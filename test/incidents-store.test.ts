/**
 * Incidents on every state-store dialect (SQLite and PostgreSQL): creation from the `opened` event,
 * appends folding the timeline into the row, alert links, list filters, correlation candidates, and a
 * fresh handle (a restart) reading exactly what was written.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openStateDb, type StateDb } from '../src/store/state/db.ts';
import { IncidentRepo } from '../src/store/state/incidents.ts';
import { freshPostgresSchema } from './helpers/postgres.ts';

interface Backend {
  name: string;
  open(): Promise<{ location: string; close(): Promise<void> }>;
}

const backends: Backend[] = [
  {
    name: 'sqlite',
    async open() {
      const dir = mkdtempSync(join(tmpdir(), 'vigil-incidents-'));
      return { location: join(dir, 'state.sqlite'), close: async () => rmSync(dir, { recursive: true, force: true }) };
    },
  },
  {
    name: 'postgres',
    async open() {
      const schema = await freshPostgresSchema();
      return { location: schema.url, close: () => schema.drop() };
    },
  },
];

// Epoch milliseconds in 2026: beyond 32 bits.
const T0 = Date.UTC(2026, 10, 30, 12, 0, 0);
const MIN = 60_000;

const opened = (title: string, o: { services?: string[]; systems?: string[]; key?: string | null; at?: number } = {}) => ({
  at: o.at ?? T0,
  actor: 'user:ana',
  data: { kind: 'opened' as const, title, severity: 'SEV3' as const, services: o.services ?? [], systems: o.systems ?? [], description: 'd', source: 'manual' as const, correlationKey: o.key ?? null },
});

for (const backend of backends) {
  describe(`incident store on ${backend.name}`, () => {
    let location: string;
    let close: () => Promise<void>;
    let db: StateDb;
    let repo: IncidentRepo;
    beforeAll(async () => {
      ({ location, close } = await backend.open());
      db = await openStateDb(location);
      repo = new IncidentRepo(db);
    });
    afterAll(async () => {
      await db?.destroy();
      await close?.();
    });

    it('creates an incident whose row and timeline agree', async () => {
      const id = await repo.create(opened('LMS course registration fails', { services: ['lms-api'], systems: ['lms'] }));
      const rec = await repo.get(id);
      expect(rec).toMatchObject({ id, title: 'LMS course registration fails', status: 'triggered', severity: 'SEV3', services: ['lms-api'], systems: ['lms'], openedAt: T0, source: 'manual' });
      const tl = await repo.timeline(id);
      expect(tl.map((e) => [e.data.kind, e.actor, e.at])).toEqual([['opened', 'user:ana', T0]]);
    });

    it('appends fold into the row: status, MTTA/MTTR times, people, linked alerts', async () => {
      const id = await repo.create(opened('Checkout errors', { services: ['checkout'], key: 'service:checkout' }));
      await repo.append(id, [{ at: T0 + MIN, actor: 'user:bo', data: { kind: 'status_changed', from: 'triggered', to: 'acknowledged' } }]);
      await repo.append(id, [{ at: T0 + 2 * MIN, actor: 'vigil', data: { kind: 'alert_firing', ruleId: 'r.yml:g:HighErrors', fingerprint: 'abc', labels: { alertname: 'HighErrors', service_name: 'checkout' }, severity: 'SEV2' } }]);
      await repo.append(id, [{ at: T0 + 3 * MIN, actor: 'user:bo', data: { kind: 'assigned', commander: 'bo', assignees: ['cy', 'dee'] } }]);
      const view = await repo.append(id, [
        { at: T0 + 4 * MIN, actor: 'user:bo', data: { kind: 'note', text: 'rolled back' } },
        { at: T0 + 4 * MIN, actor: 'user:bo', data: { kind: 'status_changed', from: 'acknowledged', to: 'resolved' } },
      ]);
      expect(view?.status).toBe('resolved');
      const rec = await repo.get(id);
      expect(rec).toMatchObject({ status: 'resolved', severity: 'SEV2', commander: 'bo', assignees: ['cy', 'dee'], acknowledgedAt: T0 + MIN, resolvedAt: T0 + 4 * MIN, closedAt: null, updatedAt: T0 + 4 * MIN });
      expect(await repo.alerts(id)).toEqual([{ ruleId: 'r.yml:g:HighErrors', fingerprint: 'abc', labels: { alertname: 'HighErrors', service_name: 'checkout' }, linkedAt: T0 + 2 * MIN }]);
      expect((await repo.timeline(id)).map((e) => e.data.kind)).toEqual(['opened', 'status_changed', 'alert_firing', 'assigned', 'note', 'status_changed']);
    });

    it('appending to an unknown incident changes nothing', async () => {
      expect(await repo.append(999_999, [{ at: T0, actor: 'x', data: { kind: 'note', text: 'n' } }])).toBeUndefined();
      expect(await repo.get(999_999)).toBeUndefined();
    });

    it('lists by status, service and system, newest first; wildcards in a name match only themselves', async () => {
      const a = await repo.create(opened('a', { services: ['pay_ments'], at: T0 + 10 * MIN }));
      const b = await repo.create(opened('b', { services: ['payXments'], systems: ['shop'], at: T0 + 11 * MIN }));
      const open = await repo.list({ status: 'open' });
      expect(open.map((r) => r.id).slice(0, 2)).toEqual([b, a]);
      expect(open.every((r) => r.status !== 'resolved')).toBe(true);
      expect((await repo.list({ status: 'resolved' })).map((r) => r.title)).toEqual(['Checkout errors']);
      expect((await repo.list({ status: 'all', service: 'pay_ments' })).map((r) => r.id)).toEqual([a]);
      expect((await repo.list({ status: 'all', service: 'pay%' })).map((r) => r.id)).toEqual([]);
      expect((await repo.list({ status: 'all', system: 'shop' })).map((r) => r.id)).toEqual([b]);
      expect(await repo.list({ status: 'all', limit: 1 })).toHaveLength(1);
    });

    it('correlation candidates: open incidents, and non-closed ones linking the alert', async () => {
      const cands = await repo.correlationCandidates({ ruleId: 'r.yml:g:HighErrors', fingerprint: 'abc' });
      const titles = cands.map((c) => c.view.title).sort();
      expect(titles).toContain('Checkout errors');
      expect(titles).toContain('LMS course registration fails');
      expect(cands.find((c) => c.view.title === 'Checkout errors')?.view.alerts[0]?.state).toBe('firing');
    });

    it('a new handle (a restart) reads the same incidents', async () => {
      const again = await openStateDb(location);
      try {
        const before = await repo.list({ status: 'all' });
        expect(await new IncidentRepo(again).list({ status: 'all' })).toEqual(before);
      } finally {
        await again.destroy();
      }
    });
  });
}

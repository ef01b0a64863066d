/**
 * Runbooks and remediation actions on every state-store dialect (SQLite and PostgreSQL): writes read
 * back whole, updates and deletes, filters by service and alert rule, the runbooks that match an
 * incident, unique action names.
 */
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { ActionRepo, type ActionWrite } from '../src/store/state/actions.ts';
import type { StateDb } from '../src/store/state/db.ts';
import { RunbookRepo, type RunbookWrite } from '../src/store/state/runbooks.ts';
import { STATE_BACKENDS as backends } from './helpers/state-backends.ts';

// Epoch milliseconds in 2026: beyond 32 bits.
const T0 = Date.UTC(2026, 11, 1, 12, 0, 0);

function runbook(over: Partial<RunbookWrite> = {}): RunbookWrite {
  return { title: 'Checkout is failing', scope: { kind: 'service', value: 'checkout' }, body: '# Steps\n\n1. Look at `errors`', actions: ['restart-checkout'], updatedAt: T0, updatedBy: 'user:rita', ...over };
}

function action(over: Partial<ActionWrite> = {}): ActionWrite {
  return {
    name: 'restart-checkout',
    description: 'Restart the checkout service',
    method: 'POST',
    url: 'http://ops.internal/restart/{{ .Input.service }}',
    headers: { 'content-type': 'application/json', authorization: 'sealed:v1:abc' },
    body: '{"incident": {{ .Incident.ID }}}',
    inputs: { service: 'which service' },
    services: ['checkout'],
    timeoutMs: 10_000,
    updatedAt: T0,
    updatedBy: 'token:ci',
    ...over,
  };
}

describe.each(backends)('runbooks and actions on $name', (backend) => {
  let db: StateDb;
  let close: () => Promise<void>;
  let runbooks: RunbookRepo;
  let actions: ActionRepo;
  beforeAll(async () => {
    ({ db, close } = await backend.open());
    runbooks = new RunbookRepo(db);
    actions = new ActionRepo(db);
  });
  afterAll(async () => close?.());
  beforeEach(async () => {
    await db.deleteFrom('runbooks').execute();
    await db.deleteFrom('remediation_actions').execute();
  });

  it('stores a runbook, replaces and deletes it', async () => {
    const id = await runbooks.insert(runbook());
    expect(await runbooks.get(id)).toEqual({ id, ...runbook() });
    expect(await runbooks.update(id, runbook({ title: "it's \"new\" ✓", scope: { kind: 'general', value: '' }, actions: [], updatedAt: T0 + 1 }))).toBe(true);
    expect(await runbooks.get(id)).toMatchObject({ title: "it's \"new\" ✓", scope: { kind: 'general', value: '' }, actions: [], updatedAt: T0 + 1 });
    expect(await runbooks.update(id + 1000, runbook())).toBe(false);
    expect(await runbooks.delete(id)).toBe(true);
    expect(await runbooks.delete(id)).toBe(false);
    expect(await runbooks.get(id)).toBeUndefined();
  });

  it('lists runbooks of a service or an alert rule, and those that match an incident', async () => {
    const svc = await runbooks.insert(runbook({ title: 'B checkout' }));
    const other = await runbooks.insert(runbook({ title: 'A payments', scope: { kind: 'service', value: 'payments' } }));
    const rule = await runbooks.insert(runbook({ title: 'C high errors', scope: { kind: 'rule', value: 'HighErrorRate' } }));
    const general = await runbooks.insert(runbook({ title: 'D general', scope: { kind: 'general', value: '' } }));
    expect((await runbooks.list()).map((r) => r.id)).toEqual([general, rule, svc, other]);
    expect((await runbooks.list({ service: 'checkout' })).map((r) => r.id)).toEqual([svc]);
    expect((await runbooks.list({ rule: 'HighErrorRate' })).map((r) => r.id)).toEqual([rule]);
    expect((await runbooks.list({ service: 'checkout', rule: 'HighErrorRate' })).map((r) => r.id).sort()).toEqual([svc, rule].sort());
    expect((await runbooks.matching({ services: ['checkout', 'checkout'], rules: ['HighErrorRate'], general: true })).map((r) => r.id)).toEqual([svc, rule, general]);
    expect((await runbooks.matching({ services: ['payments'], rules: [], general: false })).map((r) => r.id)).toEqual([other]);
    expect(await runbooks.matching({ services: [], rules: [], general: false })).toEqual([]);
    // A service named like an alert rule is not that rule.
    expect(await runbooks.matching({ services: ['HighErrorRate'], rules: [], general: false })).toEqual([]);
  });

  it('stores an action, finds it by name, replaces and deletes it', async () => {
    const id = await actions.insert(action());
    expect(await actions.get(id)).toEqual({ id, ...action() });
    expect(await actions.getByName('restart-checkout')).toEqual({ id, ...action() });
    expect(await actions.getByName('nope')).toBeUndefined();
    expect(await actions.update(id, action({ method: 'PUT', headers: {}, inputs: {}, services: [], timeoutMs: 2500 }))).toBe(true);
    expect(await actions.get(id)).toMatchObject({ method: 'PUT', headers: {}, inputs: {}, services: [], timeoutMs: 2500 });
    expect(await actions.delete(id)).toBe(true);
    expect(await actions.get(id)).toBeUndefined();
    expect(await actions.update(id, action())).toBe(false);
  });

  it('keeps action names unique and reads several by name', async () => {
    await actions.insert(action());
    await expect(actions.insert(action())).rejects.toThrow();
    await actions.insert(action({ name: 'flush-cache' }));
    await actions.insert(action({ name: 'a-first' }));
    expect((await actions.list()).map((a) => a.name)).toEqual(['a-first', 'flush-cache', 'restart-checkout']);
    expect((await actions.byNames(['restart-checkout', 'missing', 'a-first'])).map((a) => a.name)).toEqual(['a-first', 'restart-checkout']);
    expect(await actions.byNames([])).toEqual([]);
  });
});

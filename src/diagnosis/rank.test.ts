import { describe, expect, it } from 'vitest';
import { MAX_HYPOTHESES, rank, type RankContext } from './rank.ts';
import type { Evidence, ServiceEdge } from './types.ts';

const MIN = 60_000;
const ONSET = Date.UTC(2026, 11, 1, 12, 0, 0);
const edges: ServiceEdge[] = [
  { caller: 'storefront', callee: 'checkout', instrumented: true },
  { caller: 'checkout', callee: 'payments', instrumented: true },
  { caller: 'payments', callee: 'ledger', instrumented: false },
];
const ctx: RankContext = {
  scope: { services: [], systems: [], onsetMs: ONSET, window: { fromMs: ONSET - 2 * MIN, toMs: ONSET + 10 * MIN }, baseline: { fromMs: ONSET - 32 * MIN, toMs: ONSET - 2 * MIN } },
  edges,
};

let n = 0;
function ev(p: Partial<Evidence> & Pick<Evidence, 'category' | 'component'>): Evidence {
  return { detector: `d${n++}`, services: [], role: 'cause', score: 0.6, summary: `${p.category} ${p.component}`, figures: {}, links: [{ kind: 'logs', label: 'l', href: '/logs' }], ...p };
}

const order = (list: Evidence[]) => rank(list, ctx).map((h) => `${h.category}:${h.component}`);

describe('rank', () => {
  it('merges evidence about one culprit: noisy-or across detectors, one detector repeating itself adds nothing', () => {
    const [h, ...rest] = rank(
      [
        ev({ detector: 'dependencies', category: 'dependency', component: 'ledger', services: ['ledger', 'payments'], score: 0.6, summary: 'ledger answers 40% errors', nextStep: 'Check ledger.' }),
        ev({ detector: 'log-patterns', category: 'dependency', component: 'ledger', services: ['payments'], score: 0.5, role: 'symptom' }),
        ev({ detector: 'dependencies', category: 'dependency', component: 'ledger', services: ['ledger'], score: 0.55 }),
      ],
      ctx,
    );
    expect(rest).toEqual([]);
    expect(h).toMatchObject({ rank: 1, category: 'dependency', component: 'ledger', services: ['ledger', 'payments'], next_step: 'Check ledger.' });
    expect(h!.confidence).toBeCloseTo(1 - 0.4 * 0.5, 2);
    expect(h!.summary).toBe('ledger answers 40% errors (corroborated by 1 detector: log-patterns)');
    expect(h!.evidence).toHaveLength(3);
    expect(h!.evidence[0]!.score).toBe(0.6);
  });

  it('confidence stays below 1; weak hypotheses are dropped and at most ten are kept', () => {
    const strong = ['a', 'b', 'c'].map((d) => ev({ detector: d, category: 'database', component: 'SELECT 1', score: 1 }));
    const many = Array.from({ length: 14 }, (_, i) => ev({ category: 'code', component: `svc-${i} GET /x`, services: [`svc-${i}`], score: 0.5 }));
    const hyps = rank([...strong, ...many, ev({ category: 'resource', component: 'host h cpu', score: 0.1 })], ctx);
    expect(hyps).toHaveLength(MAX_HYPOTHESES);
    expect(hyps[0]!.confidence).toBeLessThan(1);
    expect(hyps.map((h) => h.rank)).toEqual(Array.from({ length: MAX_HYPOTHESES }, (_, i) => i + 1));
    expect(hyps.some((h) => h.component === 'host h cpu')).toBe(false);
  });

  it('causes rank above symptoms of the same strength; next steps fall back to the category', () => {
    const hyps = rank(
      [
        ev({ category: 'code', component: 'checkout POST /cart', services: ['checkout'], role: 'symptom', score: 0.7 }),
        ev({ category: 'resource', component: 'host node-b memory', services: ['search'], role: 'cause', score: 0.7 }),
      ],
      ctx,
    );
    expect(hyps.map((h) => h.component)).toEqual(['host node-b memory', 'checkout POST /cart']);
    expect(hyps[0]!.next_step).toMatch(/scale the resource/i);
  });

  it('host-wide evidence joins that host’s resource hypothesis', () => {
    const hyps = rank(
      [
        ev({ detector: 'resources', category: 'resource', component: 'host node-a cpu', services: ['checkout'], score: 0.8 }),
        ev({ detector: 'log-patterns', category: 'resource', component: 'host node-a', services: ['checkout'], role: 'symptom', score: 0.4 }),
        ev({ detector: 'resources', category: 'resource', component: 'host node-b disk /var', services: ['payments'], score: 0.3 }),
      ],
      ctx,
    );
    expect(hyps.map((h) => h.component)).toEqual(['host node-a cpu', 'host node-b disk /var']);
    expect(hyps[0]!.evidence.map((e) => e.detector)).toEqual(['resources', 'log-patterns']);
    // A disk a service's logs complain about, its host unknown, is the disk of that service's host.
    const disk = rank(
      [
        ev({ detector: 'resources', category: 'resource', component: 'host node-b disk /var', services: ['payments'], score: 0.7 }),
        ev({ detector: 'log-patterns', category: 'resource', component: 'payments disk', services: ['payments'], score: 0.5 }),
        ev({ detector: 'log-patterns', category: 'resource', component: 'checkout disk', services: ['checkout'], score: 0.4 }),
      ],
      ctx,
    );
    expect(disk.map((h) => [h.component, h.evidence.length])).toEqual([['host node-b disk /var', 2], ['checkout disk', 1]]);
  });

  it('a deploy absorbs evidence naming its version', () => {
    const hyps = rank(
      [
        ev({ detector: 'changes', category: 'change', component: 'checkout 3.1.0', services: ['checkout'], score: 0.6, onsetMs: ONSET - 3 * MIN }),
        ev({ detector: 'attributes', category: 'code', component: 'checkout service.version=3.1.0', services: ['checkout'], score: 0.7, role: 'symptom', figures: { attribute: 'service.version', value: '3.1.0' } }),
        ev({ detector: 'attributes', category: 'code', component: 'checkout service.version=3.0.9', services: ['payments'], score: 0.2, figures: { attribute: 'service.version', value: '3.1.0' } }),
      ],
      ctx,
    );
    expect(hyps[0]).toMatchObject({ category: 'change', component: 'checkout 3.1.0' });
    expect(hyps[0]!.evidence.map((e) => e.detector)).toEqual(['changes', 'attributes']);
    expect(hyps[0]!.confidence).toBeCloseTo(1 - 0.4 * 0.3, 2);
    expect(hyps[0]!.summary).toContain('corroborated by 1 detector: attributes');
  });

  it('a schema statement joins the slow statement on its table; an over-represented route joins its operation', () => {
    const hyps = rank(
      [
        ev({ detector: 'changes', category: 'database', component: 'DROP INDEX CONCURRENTLY items_cart_idx', services: ['checkout'], score: 0.85, figures: { operation: 'DROP', table: 'items' } }),
        ev({ detector: 'db-statements', category: 'database', component: 'SELECT * FROM items WHERE cart_id = ?', services: ['checkout'], score: 0.8 }),
        ev({ detector: 'db-statements', category: 'database', component: 'SELECT * FROM carts WHERE id = ?', services: ['checkout'], score: 0.3 }),
        ev({ detector: 'operations', category: 'code', component: 'checkout GET /carts/{id}', services: ['checkout'], role: 'symptom', score: 0.5 }),
        ev({ detector: 'attributes', category: 'code', component: 'checkout http.route=/carts/{id}', services: ['checkout'], role: 'symptom', score: 0.5 }),
      ],
      ctx,
    );
    expect(hyps.map((h) => h.component)).toEqual(['SELECT * FROM items WHERE cart_id = ?', 'SELECT * FROM carts WHERE id = ?', 'checkout GET /carts/{id}']);
    expect(hyps[0]!.evidence.map((e) => e.detector)).toEqual(['changes', 'db-statements']);
    expect(hyps[2]!.evidence.map((e) => e.detector)).toEqual(['operations', 'attributes']);
    // Without a slow statement on its table, the schema statement stands on its own.
    expect(order([ev({ category: 'database', component: 'ALTER TABLE carts ADD COLUMN note text', score: 0.6, figures: { operation: 'ALTER' } })])).toEqual(['database:ALTER TABLE carts ADD COLUMN note text']);
  });

  it('a deploy just before the onset outranks its symptoms and the statement it slowed, even when they are stronger', () => {
    const list = [
      ev({ category: 'change', component: 'checkout 3.1.0', services: ['checkout'], score: 0.5, onsetMs: ONSET - 4 * MIN }),
      ev({ category: 'code', component: 'checkout GET /cart', services: ['checkout'], role: 'symptom', score: 0.95 }),
      ev({ category: 'database', component: 'SELECT * FROM items WHERE cart_id = ?', services: ['checkout'], score: 0.9 }),
      ev({ category: 'code', component: 'storefront GET /', services: ['storefront'], role: 'symptom', score: 0.9 }),
    ];
    const hyps = rank(list, ctx);
    expect(hyps.map((h) => h.category)).toEqual(['change', 'database', 'code', 'code']);
    expect(hyps[1]!.confidence).toBeLessThan(hyps[0]!.confidence);
    // The same deploy two hours earlier explains nothing: the statement leads.
    const old = rank([{ ...list[0]!, onsetMs: ONSET - 120 * MIN }, ...list.slice(1)], ctx);
    expect(old[0]!.category).toBe('database');
    // …nor does a deploy of an unrelated, downstream service.
    const other = rank([{ ...list[0]!, component: 'ledger 9.0', services: ['ledger'] }, ...list.slice(1, 3)], ctx);
    expect(other[0]!.category).toBe('database');
  });

  it('a change to a service that shows no trouble, seen by one detector, is a weaker suspect', () => {
    const failing = ev({ detector: 'dependencies', category: 'dependency', component: 'ledger', services: ['ledger', 'payments'], score: 0.7 });
    const deploy = ev({ detector: 'changes', category: 'change', component: 'reports 1.2.0', services: ['reports'], score: 0.8, onsetMs: ONSET - 3 * MIN });
    const [first, second] = rank([failing, deploy], ctx);
    expect([first!.component, second!.component]).toEqual(['ledger', 'reports 1.2.0']);
    expect(second!.confidence).toBeCloseTo(0.48, 2);
    // Trouble at the deployed service, or a second detector tying the version to failures, keeps it whole.
    expect(order([failing, deploy, ev({ category: 'database', component: 'SELECT 1', services: ['reports'], score: 0.4 })])[0]).toBe('change:reports 1.2.0');
    expect(order([failing, deploy, ev({ detector: 'attributes', category: 'change', component: 'reports 1.2.0', services: ['reports'], score: 0.5 })])[0]).toBe('change:reports 1.2.0');
    // Its own errors count too, unless a failing service it calls accounts for them.
    const errors = ev({ detector: 'operations', category: 'code', component: 'reports GET /daily', services: ['reports'], role: 'symptom', score: 0.9 });
    expect(order([failing, deploy, errors])[0]).toBe('change:reports 1.2.0');
    const front = { ...deploy, component: 'storefront 7.0', services: ['storefront'] };
    const frontErrors = { ...errors, component: 'storefront GET /', services: ['storefront'] };
    expect(rank([failing, front, frontErrors], ctx).find((h) => h.component === 'storefront 7.0')!.confidence).toBeCloseTo(0.48, 2);
  });

  it('a change explains trouble at the services its evidence names; a process explains its host', () => {
    // A configuration change that makes checkout call payments 6× per request: payments' slowness is its doing.
    const flood = rank(
      [
        ev({ detector: 'changes', category: 'configuration', component: 'checkout cache.enabled', services: ['checkout'], score: 0.6, onsetMs: ONSET - MIN }),
        ev({ detector: 'dependencies', category: 'configuration', component: 'checkout cache.enabled', services: ['checkout', 'payments'], score: 0.5 }),
        ev({ detector: 'dependencies', category: 'dependency', component: 'payments', services: ['payments', 'checkout'], score: 0.9 }),
      ],
      ctx,
    );
    expect(flood.map((h) => h.component)).toEqual(['checkout cache.enabled', 'payments']);
    const hog = rank(
      [
        ev({ detector: 'resources', category: 'resource', component: 'host node-a cpu', services: ['checkout', 'payments'], score: 0.9 }),
        ev({ detector: 'resources', category: 'resource', component: 'checkout cpu', services: ['checkout'], score: 0.7 }),
      ],
      ctx,
    );
    expect(hog.map((h) => h.component)).toEqual(['checkout cpu', 'host node-a cpu']);
    // A process on another host explains nothing there.
    expect(order([hog[1]!.evidence[0]!, { ...hog[0]!.evidence[0]!, component: 'reports cpu', services: ['reports'] }])[0]).toBe('resource:host node-a cpu');
  });

  it('a symptom seen only at callers of a failing dependency is not the cause; the deepest failing dependency leads', () => {
    const hyps = rank(
      [
        ev({ category: 'code', component: 'storefront GET /checkout', services: ['storefront'], role: 'symptom', score: 0.95 }),
        ev({ category: 'code', component: 'checkout POST /order', services: ['checkout'], score: 0.9 }),
        ev({ category: 'dependency', component: 'payments', services: ['payments', 'checkout'], score: 0.85 }),
        ev({ category: 'dependency', component: 'ledger', services: ['ledger', 'payments'], score: 0.7 }),
        ev({ category: 'code', component: 'reports GET /daily', services: ['reports'], role: 'symptom', score: 0.5 }),
      ],
      ctx,
    );
    expect(hyps.map((h) => h.component)).toEqual(['ledger', 'payments', 'checkout POST /order', 'storefront GET /checkout', 'reports GET /daily']);
    for (let i = 1; i < hyps.length; i++) expect(hyps[i]!.confidence).toBeLessThanOrEqual(hyps[i - 1]!.confidence);
  });

  it('a weak cause does not push a clear finding down, and a cause that began later explains nothing', () => {
    const clear = ev({ category: 'dependency', component: 'payments', services: ['payments'], score: 0.9, onsetMs: ONSET });
    expect(order([clear, ev({ category: 'resource', component: 'host node-a cpu', services: ['payments'], score: 0.3 })])[0]).toBe('dependency:payments');
    expect(order([clear, ev({ category: 'resource', component: 'host node-a cpu', services: ['payments'], score: 0.8, onsetMs: ONSET + 6 * MIN })])[0]).toBe('dependency:payments');
    expect(order([clear, ev({ category: 'resource', component: 'host node-a cpu', services: ['payments'], score: 0.8, onsetMs: ONSET - MIN })])[0]).toBe('resource:host node-a cpu');
  });

  it('a rollback explains nothing: the state it returns to ran well before', () => {
    const pool = ev({ category: 'database', component: 'checkout connection pool main', services: ['checkout'], score: 0.85, onsetMs: ONSET });
    const rollback = ev({ detector: 'changes', category: 'configuration', component: 'checkout retry.limit', services: ['checkout'], score: 0.4, onsetMs: ONSET - MIN, figures: { kind: 'rollback' } });
    expect(order([pool, rollback])).toEqual(['database:checkout connection pool main', 'configuration:checkout retry.limit']);
    // The same change as a configuration change (not a return to a known state) does explain it.
    expect(order([pool, { ...rollback, figures: { kind: 'config' } }])[0]).toBe('configuration:checkout retry.limit');
  });

  it('call cycles do not loop; nothing and garbage in gives nothing out', () => {
    const cyc: RankContext = { ...ctx, edges: [...edges, { caller: 'ledger', callee: 'storefront', instrumented: true }] };
    const hyps = rank([ev({ category: 'dependency', component: 'ledger', services: ['ledger'], score: 0.8 }), ev({ category: 'dependency', component: 'storefront', services: ['storefront'], score: 0.8 })], cyc);
    expect(hyps).toHaveLength(2);
    expect(rank([], ctx)).toEqual([]);
    expect(rank([ev({ category: 'code', component: 'x y', score: Number.NaN })], ctx)).toEqual([]);
  });
});

/**
 * The graded scenarios: each turns faults of `world.ts` on, announces what a pipeline would, names the
 * incident a responder (or an alert) would open, and states the root cause diagnosis should rank first.
 */
import type { Category } from '../../src/diagnosis/types.ts';
import type { AnnouncedChange } from './player.ts';
import { ORDERS_VERSION, type Faults } from './world.ts';

const MIN = 60_000;

/** What the top hypothesis must be: the category, and the component exactly or containing `component`. */
export interface Expected {
  category: Category;
  component: string;
  match: 'exact' | 'substring';
}

export interface Scenario {
  id: string;
  /** The fault kind, one line (the accuracy table's row). */
  title: string;
  faults: Faults;
  changes: AnnouncedChange[];
  incident: { title: string; services: string[] };
  expected: Expected;
}

/** A deploy of an unrelated service 25 minutes before the fault, announced as usual: a distraction. */
const quietFrontendDeploy: AnnouncedChange = { atOffsetMs: -25 * MIN, service: 'web-frontend', kind: 'deploy', version: '5.12.3', previousVersion: '5.12.2', description: 'web-frontend 5.12.3: copy changes on the product page' };

const ordersDeploy = (version: string): AnnouncedChange => ({ atOffsetMs: -90_000, service: 'orders', kind: 'deploy', version, previousVersion: ORDERS_VERSION, description: `orders ${version}: order page loads order lines lazily`, attributes: { commit: 'a41c9e2' } });

export const SCENARIOS: Scenario[] = [
  {
    id: 'deploy-n-plus-one',
    title: '(a) deploy brings an N+1 query (announced)',
    faults: { ordersDeploy: { version: '2.5.0', leadMs: 90_000, nPlusOne: true } },
    changes: [ordersDeploy('2.5.0')],
    incident: { title: 'Order pages are slow', services: ['orders'] },
    expected: { category: 'change', component: 'orders 2.5.0', match: 'exact' },
  },
  {
    id: 'deploy-n-plus-one-detected',
    title: '(a′) the same deploy, not announced (detected from service.version)',
    faults: { ordersDeploy: { version: '2.5.1', leadMs: 90_000, nPlusOne: true } },
    changes: [],
    incident: { title: 'Order pages are slow', services: ['web-frontend'] },
    expected: { category: 'change', component: 'orders 2.5.1', match: 'exact' },
  },
  {
    id: 'dependency-failing',
    title: '(b) downstream dependency fails (503s and hangs; callers time out first)',
    faults: { ledgerFailing: true },
    changes: [quietFrontendDeploy],
    incident: { title: 'Checkout fails', services: ['web-frontend'] },
    expected: { category: 'dependency', component: 'ledger-svc', match: 'exact' },
  },
  {
    id: 'dependency-failing-decoy-deploy',
    title: '(b′) the same failure, an unrelated deploy 3 minutes before it',
    faults: { ledgerFailing: true },
    changes: [{ atOffsetMs: -3 * MIN, service: 'inventory', kind: 'deploy', version: '1.8.0', previousVersion: '1.7.9', description: 'inventory 1.8.0: stock cache warm-up' }],
    incident: { title: 'Checkout fails', services: ['web-frontend'] },
    expected: { category: 'dependency', component: 'ledger-svc', match: 'exact' },
  },
  {
    id: 'dependency-slow',
    title: '(b″) a downstream dependency slows down (no errors)',
    faults: { ledgerSlow: true },
    changes: [],
    incident: { title: 'Checkout is slow', services: ['web-frontend'] },
    expected: { category: 'dependency', component: 'ledger-svc', match: 'exact' },
  },
  {
    id: 'pool-exhausted',
    title: '(c) connection pool exhausted',
    faults: { poolExhausted: true },
    changes: [],
    incident: { title: 'Orders time out', services: ['orders'] },
    expected: { category: 'database', component: 'orders connection pool orders-pool', match: 'exact' },
  },
  {
    id: 'pool-exhausted-unscoped',
    title: '(c′) the same pool, the incident naming no service',
    faults: { poolExhausted: true },
    changes: [],
    incident: { title: 'The shop is slow', services: [] },
    expected: { category: 'database', component: 'orders connection pool orders-pool', match: 'exact' },
  },
  {
    id: 'disk-filling',
    title: '(d) a disk fills up (writes fail)',
    faults: { diskFilling: true },
    changes: [],
    incident: { title: 'Checkout fails', services: ['web-frontend', 'orders'] },
    expected: { category: 'resource', component: 'host node-b disk /var/lib/inventory', match: 'exact' },
  },
  {
    id: 'index-dropped-traced',
    title: '(e) slow statement after a dropped index (DROP INDEX traced)',
    faults: { indexDropped: { dropStatementSpan: true } },
    changes: [],
    incident: { title: 'Order history is slow', services: ['orders'] },
    expected: { category: 'database', component: 'FROM orders WHERE customer_id', match: 'substring' },
  },
  {
    id: 'index-dropped-silent',
    title: '(e′) slow statement after a dropped index (no trace of the DDL)',
    faults: { indexDropped: { dropStatementSpan: false } },
    changes: [],
    incident: { title: 'Account page is slow', services: ['web-frontend'] },
    expected: { category: 'database', component: 'FROM orders WHERE customer_id', match: 'substring' },
  },
  {
    id: 'cpu-saturated',
    title: '(f) CPU saturation on one of two hosts',
    faults: { cpuSaturated: true },
    changes: [],
    incident: { title: 'Orders are slow', services: ['orders'] },
    expected: { category: 'resource', component: 'host node-a cpu', match: 'exact' },
  },
  {
    id: 'cpu-saturated-from-the-edge',
    title: '(f′) the same CPU saturation, the incident naming only the front end',
    faults: { cpuSaturated: true },
    changes: [],
    incident: { title: 'The shop is slow', services: ['web-frontend'] },
    expected: { category: 'resource', component: 'host node-a cpu', match: 'exact' },
  },
  {
    id: 'config-change',
    title: '(g) configuration change refuses requests (4xx)',
    faults: { billingLimit: { key: 'charges.max_amount' } },
    changes: [
      quietFrontendDeploy,
      { atOffsetMs: -45_000, service: 'billing', kind: 'config', description: 'lower the charge limit for the fraud review', attributes: { key: 'charges.max_amount', previous: '5000', value: '120' } },
    ],
    incident: { title: 'Customers cannot pay', services: ['web-frontend'] },
    expected: { category: 'configuration', component: 'billing charges.max_amount', match: 'exact' },
  },
  {
    id: 'service-stopped',
    title: '(h) a service stops',
    faults: { inventoryStopped: true },
    changes: [],
    incident: { title: 'Product pages fail', services: ['web-frontend'] },
    expected: { category: 'availability', component: 'inventory', match: 'exact' },
  },
  {
    id: 'process-cpu-hog',
    title: '(i) one process takes its host’s CPU (a runaway loop in orders on node-a)',
    faults: { processCpuHog: true },
    changes: [],
    incident: { title: 'Orders are slow', services: ['orders'] },
    expected: { category: 'resource', component: 'orders cpu', match: 'exact' },
  },
  {
    id: 'memory-leak',
    title: '(j) a memory leak (GC pauses slow billing)',
    faults: { memoryLeak: true },
    changes: [],
    incident: { title: 'Checkout is slow', services: ['web-frontend'] },
    expected: { category: 'resource', component: 'billing memory', match: 'exact' },
  },
];

/** Whether a hypothesis is the expected cause. */
export function matches(expected: Expected, h: { category: string; component: string }): boolean {
  if (h.category !== expected.category) return false;
  return expected.match === 'exact' ? h.component === expected.component : h.component.includes(expected.component);
}

/**
 * The synthetic system the scenario player simulates — a small shop unlike the demo: `web-frontend` calls
 * `orders` and `inventory`; `orders` calls `inventory`, `billing` and the PostgreSQL database `orders-db`;
 * `billing` calls `ledger-svc`, a dependency that reports no telemetry of its own (known only as
 * `peer.service`). `orders` runs two instances, on hosts `node-a` and `node-b`.
 *
 *   web-frontend ─▶ inventory ─▶ orders-db
 *        │              ▲
 *        ▼              │
 *      orders ──────────┘
 *        ├─▶ orders-db (pool `orders-pool`)
 *        └─▶ billing ─▶ ledger-svc (uninstrumented)
 *
 * The faults a scenario turns on are flags here; `player.ts` reads them while it generates each request.
 */

/** One running process of a service. */
export interface Instance {
  service: string;
  id: string;
  host: string;
}

/** What a scenario breaks, from the fault's start (`faultAt`) unless said otherwise. */
export interface Faults {
  /** `orders` is deployed at this version `deployLeadMs` before the fault (new instances report it). */
  ordersDeploy?: { version: string; leadMs: number; nPlusOne: boolean };
  /** `ledger-svc` answers 503 to some calls and hangs on others: billing's calls time out, and orders' first. */
  ledgerFailing?: boolean;
  /** `ledger-svc` answers, but slowly (about 1.2 s instead of 20 ms): no errors, everything upstream waits. */
  ledgerSlow?: boolean;
  /** `orders-pool` is at its limit: requests queue for a connection and many give up. */
  poolExhausted?: boolean;
  /** The inventory data disk of `node-b` fills up over the ten minutes before the fault, then writes fail. */
  diskFilling?: boolean;
  /** The index behind the customer order-history query is gone; `dropStatementSpan`: the DDL was traced. */
  indexDropped?: { dropStatementSpan: boolean };
  /** A runaway process takes `node-a`'s CPU: the `orders` instance there crawls. */
  cpuSaturated?: boolean;
  /** A runaway loop in the `orders` process on `node-a`: that process takes the host's CPU. */
  processCpuHog?: boolean;
  /** `billing` leaks memory from five minutes before the fault; from the fault on, GC pauses slow it. */
  memoryLeak?: boolean;
  /** A configuration change of billing makes it refuse many charges (422). */
  billingLimit?: { key: string };
  /** `inventory` stops: no telemetry, connections refused. */
  inventoryStopped?: boolean;
}

export const NAMESPACE = 'shop';
export const ORDERS_VERSION = '2.4.0';

/** Instances and their hosts (`web-frontend` on the edge host, `billing` on its own). */
export const INSTANCES = {
  frontend: { service: 'web-frontend', id: 'web-frontend-5d9c8', host: 'edge-1' },
  ordersA: { service: 'orders', id: 'orders-7b4f1-a', host: 'node-a' },
  ordersB: { service: 'orders', id: 'orders-7b4f1-b', host: 'node-b' },
  inventory: { service: 'inventory', id: 'inventory-0', host: 'node-b' },
  billing: { service: 'billing', id: 'billing-6c2e0', host: 'node-c' },
} satisfies Record<string, Instance>;

/** The hosts the agent reports, with their filesystems. */
export const HOSTS: Record<string, { mounts: { mountpoint: string; device: string; sizeBytes: number; used: number }[] }> = {
  'edge-1': { mounts: [{ mountpoint: '/', device: '/dev/sda1', sizeBytes: 40e9, used: 0.41 }] },
  'node-a': { mounts: [{ mountpoint: '/', device: '/dev/nvme0n1p1', sizeBytes: 100e9, used: 0.38 }] },
  'node-b': {
    mounts: [
      { mountpoint: '/', device: '/dev/nvme0n1p1', sizeBytes: 100e9, used: 0.36 },
      { mountpoint: '/var/lib/inventory', device: '/dev/nvme1n1', sizeBytes: 200e9, used: 0.58 },
    ],
  },
  'node-c': { mounts: [{ mountpoint: '/', device: '/dev/sda1', sizeBytes: 60e9, used: 0.44 }] },
};

/** The database, as clients name it (`server.address`) and the pool `orders` keeps. */
export const DB = { system: 'postgresql', address: 'orders-db', port: 5432, namespace: 'shop', pool: 'orders-pool', poolMax: 20 };
/** The dependency that reports nothing of its own. */
export const LEDGER = { peer: 'ledger-svc', address: 'ledger.internal', port: 8443 };

/** Statements, as the drivers put them in `db.query.text` (parameterised). */
export const SQL = {
  stock: 'SELECT sku, quantity, reserved FROM stock WHERE sku = $1',
  reserve: 'UPDATE stock SET reserved = reserved + $1 WHERE sku = $2 AND quantity - reserved >= $1',
  orderById: 'SELECT id, customer_id, status, total FROM orders WHERE id = $1',
  orderItems: 'SELECT sku, quantity, price FROM order_items WHERE order_id = $1',
  orderItemByLine: 'SELECT sku, quantity, price FROM order_items WHERE order_id = $1 AND line_no = $2',
  insertOrder: 'INSERT INTO orders (customer_id, status, total) VALUES ($1, $2, $3) RETURNING id',
  history: 'SELECT id, status, total, created_at FROM orders WHERE customer_id = $1 ORDER BY created_at DESC LIMIT 20',
  dropIndex: 'DROP INDEX CONCURRENTLY orders_customer_id_created_at_idx',
} as const;

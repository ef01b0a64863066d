/**
 * The fault library: what each fault does, which service it hits, and the operator action that remediates it.
 * Pure data, shared by the supervisor (which applies faults) and docs/tests (which describe them).
 */

/** Names of the demo's services. */
export type ServiceName = 'rms-api' | 'payment-gateway' | 'lms-api' | 'auth-service';
export const SERVICES: readonly ServiceName[] = ['payment-gateway', 'auth-service', 'rms-api', 'lms-api'];

/** How the supervisor applies a fault. */
export type FaultKind =
  /** Sent over IPC to the target service, which changes its own behaviour. */
  | 'ipc'
  /** The supervisor restarts the target with another version. */
  | 'deploy'
  /** The supervisor stops the target process. */
  | 'process';

/** One injectable fault. */
export interface FaultSpec {
  name: string;
  description: string;
  /** Default target; process-level faults accept another service. */
  target: ServiceName;
  kind: FaultKind;
  /** Whether `?service=` may choose another target. */
  retargetable: boolean;
  /** Remediation action that fixes it (POST /remediate/:action). */
  remediation: string;
}

export const FAULTS: readonly FaultSpec[] = [
  {
    name: 'rms-slow-query',
    description: 'The usage index is dropped: royalty calculation and statements full-scan usage_records (p95 rises >5x).',
    target: 'rms-api',
    kind: 'ipc',
    retargetable: false,
    remediation: 'recreate-index',
  },
  {
    name: 'rms-payment-gateway-latency',
    description: 'The payment gateway answers in 2-5 s; many payouts exceed the RMS 2.5 s timeout and batches fail with 502.',
    target: 'payment-gateway',
    kind: 'ipc',
    retargetable: false,
    remediation: 'restart-payment-gateway',
  },
  {
    name: 'lms-db-connection-failures',
    description: 'Registration loses its database connections and some connects fail: the pool exhausts and requests answer 5xx.',
    target: 'lms-api',
    kind: 'ipc',
    retargetable: false,
    remediation: 'reset-lms-db-pool',
  },
  {
    name: 'lms-role-misconfig',
    description: 'The role mapping sends the students group to the guest role: student registrations answer 403.',
    target: 'lms-api',
    kind: 'ipc',
    retargetable: false,
    remediation: 'restore-role-mapping',
  },
  {
    name: 'lms-login-redundant-calls',
    description: 'Login re-validates the token against auth-service at every step: 8 calls instead of 2, login several times slower.',
    target: 'lms-api',
    kind: 'ipc',
    retargetable: false,
    remediation: 'restore-auth-config',
  },
  {
    name: 'cpu-hog',
    description: 'A service burns about half of one core on its event loop, slowing every request a little.',
    target: 'rms-api',
    kind: 'ipc',
    retargetable: true,
    remediation: 'restart-rms-api',
  },
  {
    name: 'memory-leak',
    description: 'A service retains 8 MB/s in an unbounded cache, up to +200 MB resident memory.',
    target: 'lms-api',
    kind: 'ipc',
    retargetable: true,
    remediation: 'restart-lms-api',
  },
  {
    name: 'disk-fill',
    description: 'A service fills its data volume with spool files (at most 200 MB); once full, its writes fail with ENOSPC.',
    target: 'rms-api',
    kind: 'ipc',
    retargetable: true,
    remediation: 'free-disk',
  },
  {
    name: 'bad-deploy',
    description: 'lms-api 2.5.0 goes live; it throws on every progress update (HTTP 500).',
    target: 'lms-api',
    kind: 'deploy',
    retargetable: false,
    remediation: 'rollback',
  },
  {
    name: 'service-down',
    description: 'A service process stops; its port refuses connections and callers fail.',
    target: 'auth-service',
    kind: 'process',
    retargetable: true,
    remediation: 'restart-auth-service',
  },
];

/** Remediation actions the admin API accepts, with what they do. */
export const REMEDIATIONS: Readonly<Record<string, string>> = {
  'recreate-index': 'Recreate idx_usage_period_work on rms-api usage_records.',
  'reset-lms-db-pool': 'Close and reopen every connection of the lms-api pool.',
  'restore-role-mapping': 'Restore the default group → role mapping in lms-api.',
  'restore-auth-config': 'Set lms-api auth.session_validation back to once.',
  'free-disk': 'Delete spool files on the service data volume (default rms-api; ?service= for another).',
  rollback: 'Redeploy the previous version of the service that was last deployed (lms-api).',
  ...Object.fromEntries(SERVICES.map((s) => [`restart-${s}`, `Restart ${s} (clears in-process state; starts it if stopped).`])),
};

/** Looks a fault up by name. */
export function findFault(name: string): FaultSpec | undefined {
  return FAULTS.find((f) => f.name === name);
}

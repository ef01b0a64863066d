/**
 * A small client of the demo admin API, for the `vigil demo fault ...` CLI (which loads it with a dynamic import so
 * nothing in src/ depends on demo/ statically).
 */

/** One fault as the admin API lists it. */
export interface FaultInfo {
  name: string;
  description: string;
  target: string;
  remediation: string;
  state: 'on' | 'off';
  since: string | null;
}

async function request<T>(adminUrl: string, method: string, path: string): Promise<T> {
  const res = await fetch(`${adminUrl.replace(/\/+$/, '')}${path}`, { method, signal: AbortSignal.timeout(120_000) });
  const body = (await res.json()) as T & { message?: string };
  if (!res.ok) throw new Error(body.message ?? `demo admin API answered ${res.status}`);
  return body;
}

/** Lists every fault with its state. */
export async function listFaults(adminUrl: string): Promise<FaultInfo[]> {
  return (await request<{ faults: FaultInfo[] }>(adminUrl, 'GET', '/faults')).faults;
}

/** Turns a fault on or off; `service` retargets process-level faults (cpu-hog, memory-leak, disk-fill, service-down). */
export async function setFault(adminUrl: string, name: string, on: boolean, service?: string): Promise<FaultInfo> {
  const q = service ? `?service=${encodeURIComponent(service)}` : '';
  return request<FaultInfo>(adminUrl, 'POST', `/faults/${encodeURIComponent(name)}/${on ? 'on' : 'off'}${q}`);
}

/** Runs a remediation action (e.g. recreate-index, rollback, restart-auth-service). */
export async function remediate(adminUrl: string, action: string, service?: string): Promise<{ action: string; result: unknown }> {
  const q = service ? `?service=${encodeURIComponent(service)}` : '';
  return request(adminUrl, 'POST', `/remediate/${encodeURIComponent(action)}${q}`);
}

/** Services, traffic counters and faults. */
export async function demoStatus(adminUrl: string): Promise<Record<string, unknown>> {
  return request(adminUrl, 'GET', '/status');
}

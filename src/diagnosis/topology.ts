/**
 * The service map a diagnosis reads: caller → callee edges over the window and its baseline, from the
 * same view as the UI's service map (client spans' `peer.service`, else the server span they caused).
 */
import type { QueryService } from '../query/service.ts';
import { serviceMapQuery, servicesQuery } from '../query/views/traces.ts';
import type { ServiceEdge, TimeWindow } from './types.ts';

const ns = (ms: number): bigint => BigInt(Math.floor(ms)) * 1_000_000n;

/** Service-to-service edges seen in `[from, to)`; `instrumented` says whether the callee reports its own spans. */
export async function serviceEdges(queries: QueryService, w: TimeWindow): Promise<ServiceEdge[]> {
  const [rows, services] = await Promise.all([
    queries.rows(serviceMapQuery(queries.dialect, ns(w.fromMs), ns(w.toMs))),
    queries.rows(servicesQuery(queries.dialect, ns(w.fromMs), ns(w.toMs))),
  ]);
  const sources = new Set(services.map((r) => String(r.service)));
  const edges: ServiceEdge[] = [];
  for (const r of rows) {
    if (r.target_kind !== 'service' || r.source === null || r.target === null) continue;
    const caller = String(r.source);
    const callee = String(r.target);
    if (caller === callee) continue;
    edges.push({ caller, callee, instrumented: sources.has(callee) });
  }
  return edges;
}

/** Every service `service` calls, directly or through others. */
export function downstreamOf(service: string, edges: readonly ServiceEdge[]): Set<string> {
  const out = new Set<string>();
  const stack = [service];
  while (stack.length) {
    const s = stack.pop() as string;
    for (const e of edges) if (e.caller === s && !out.has(e.callee)) (out.add(e.callee), stack.push(e.callee));
  }
  out.delete(service);
  return out;
}

/** Every service that calls `service`, directly or through others. */
export function upstreamOf(service: string, edges: readonly ServiceEdge[]): Set<string> {
  const out = new Set<string>();
  const stack = [service];
  while (stack.length) {
    const s = stack.pop() as string;
    for (const e of edges) if (e.callee === s && !out.has(e.caller)) (out.add(e.caller), stack.push(e.caller));
  }
  out.delete(service);
  return out;
}

/**
 * Running diagnosis detectors against a real test server: a DetectorContext over its query service and
 * change service, and a scope around an onset (the incident window after it, the baseline before it).
 */
import type { VigilServer } from '../../src/server/app.ts';
import { withPatientQueries } from '../../src/diagnosis/patient-queries.ts';
import { serviceEdges } from '../../src/diagnosis/topology.ts';
import type { DetectorContext, DiagnosisScope, ServiceEdge } from '../../src/diagnosis/types.ts';

/** A scope: `baselineMin` minutes of baseline ending `leadMin` before the onset, and the window from there to `toMs`. */
export function scopeAround(onsetMs: number, toMs: number, services: string[] = [], opts: { baselineMin?: number; leadMin?: number } = {}): DiagnosisScope {
  const lead = (opts.leadMin ?? 2) * 60_000;
  const windowFrom = onsetMs - lead;
  return { services, systems: [], onsetMs, window: { fromMs: windowFrom, toMs }, baseline: { fromMs: windowFrom - (opts.baselineMin ?? 30) * 60_000, toMs: windowFrom } };
}

/** A detector context over `server`'s telemetry and changes, as the runner gives it; the topology is read once. */
export function detectorContext(server: VigilServer, scope: DiagnosisScope, signal: AbortSignal = new AbortController().signal): DetectorContext {
  let edges: Promise<ServiceEdge[]> | undefined;
  return withPatientQueries({
    scope,
    queries: server.queries,
    changes: (q) => server.changes.forServices(q),
    topology: () => (edges ??= serviceEdges(server.queries, { fromMs: scope.baseline.fromMs, toMs: scope.window.toMs })),
    signal,
  });
}

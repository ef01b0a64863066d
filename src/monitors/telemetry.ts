/**
 * Check results and state changes as telemetry rows for the ingest pipeline: gauge points
 * (`vigil.check.up`, `vigil.check.duration_ms`, `vigil.check.phase_ms` per phase) and a log record
 * per state change, all under the resource `service.name=vigil-monitors`.
 */
import { hostname } from 'node:os';
import type { Attributes, LogRow, MetricRow, ResourceInfo } from '../model/telemetry.ts';
import { MONITORS_SERVICE, VIGIL_NAMESPACE } from '../model/reserved.ts';
import type { CheckResult } from './result.ts';
import type { MonitorSpec } from './spec.ts';
import type { MonitorState } from './state.ts';

const HOST = hostname();
/** The resource of every monitor row. */
export const MONITORS_RESOURCE: ResourceInfo = {
  serviceName: MONITORS_SERVICE,
  serviceNamespace: VIGIL_NAMESPACE,
  serviceVersion: '',
  hostName: HOST,
  attributes: { 'service.name': MONITORS_SERVICE, 'service.namespace': VIGIL_NAMESPACE, 'host.name': HOST },
};
const SCOPE = { name: 'vigil.monitors', version: '1' };

function monitorAttributes(spec: MonitorSpec): Attributes {
  return { 'monitor.id': spec.id, 'monitor.name': spec.name, 'monitor.type': spec.type, system: spec.system };
}

function gauge(name: string, unit: string, value: number, timeNs: bigint, attributes: Attributes): MetricRow {
  return {
    kind: 'gauge', name, description: '', unit, startTimeNs: timeNs, timeNs, resource: MONITORS_RESOURCE, scope: SCOPE, attributes, flags: 0, value,
    temporality: 'unspecified', isMonotonic: false, count: 0, sum: null, min: null, max: null, bucketCounts: [], explicitBounds: [],
  };
}

const PHASES = [
  ['dnsMs', 'dns'],
  ['connectMs', 'connect'],
  ['tlsMs', 'tls'],
  ['firstByteMs', 'first_byte'],
] as const;

/** Metric points of one check. */
export function checkMetrics(spec: MonitorSpec, result: CheckResult, at: Date): MetricRow[] {
  const timeNs = BigInt(at.getTime()) * 1_000_000n;
  const attrs = monitorAttributes(spec);
  const rows = [
    gauge('vigil.check.up', '1', result.status === 'down' ? 0 : 1, timeNs, { ...attrs, 'check.status': result.status }),
    gauge('vigil.check.duration_ms', 'ms', result.latencyMs, timeNs, attrs),
  ];
  for (const [key, phase] of PHASES) {
    const v = result.phases[key];
    if (v !== null) rows.push(gauge('vigil.check.phase_ms', 'ms', v, timeNs, { ...attrs, phase }));
  }
  return rows;
}

const SEVERITY: Record<MonitorState, [string, number]> = { up: ['INFO', 9], pending: ['INFO', 9], degraded: ['WARN', 13], down: ['ERROR', 17] };

/** The log record of a state change. */
export function stateChangeLog(spec: MonitorSpec, from: MonitorState, to: MonitorState, at: Date, error: string | undefined): LogRow {
  const timeNs = BigInt(at.getTime()) * 1_000_000n;
  const [severityText, severityNumber] = SEVERITY[to];
  return {
    timeNs,
    observedTimeNs: timeNs,
    traceId: '',
    spanId: '',
    traceFlags: 0,
    severityText,
    severityNumber,
    body: `monitor ${spec.name} (${spec.system}) is ${to}${error ? `: ${error}` : ''}`,
    resource: MONITORS_RESOURCE,
    scope: SCOPE,
    attributes: { ...monitorAttributes(spec), 'event.name': 'vigil.monitor.state_change', 'monitor.state.from': from, 'monitor.state.to': to, ...(error ? { error } : {}) },
  };
}

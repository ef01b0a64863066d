/**
 * The host agent: a MeterProvider with the host instruments and a periodic reader pushing to an
 * exporter — the OTLP/HTTP protobuf exporter for `vigil agent`, or straight into the ingest pipeline
 * when Vigil watches its own host.
 */
import { hostname, type } from 'node:os';
import { resourceFromAttributes } from '@opentelemetry/resources';
import { MeterProvider, PeriodicExportingMetricReader, type PushMetricExporter } from '@opentelemetry/sdk-metrics';
import { registerHostMetrics, type HostMetricsOptions } from './host-metrics.ts';

/** A running agent. */
export interface HostAgent {
  provider: MeterProvider;
  /** Collects and exports now. */
  flush(): Promise<void>;
  stop(): Promise<void>;
}

/** Starts collecting every `intervalMs` and exporting through `exporter`. */
export function startHostAgent(opts: { exporter: PushMetricExporter; intervalMs: number; hostName?: string; serviceName?: string } & HostMetricsOptions): HostAgent {
  const resource = resourceFromAttributes({
    'service.name': opts.serviceName ?? 'vigil-agent',
    'host.name': opts.hostName ?? hostname(),
    'os.type': type().toLowerCase(),
  });
  const reader = new PeriodicExportingMetricReader({ exporter: opts.exporter, exportIntervalMillis: opts.intervalMs, exportTimeoutMillis: Math.min(opts.intervalMs, 30_000) });
  const provider = new MeterProvider({ resource, readers: [reader] });
  registerHostMetrics(provider.getMeter('vigil-agent', '1'), opts);
  return {
    provider,
    flush: () => provider.forceFlush(),
    stop: () => provider.shutdown(),
  };
}

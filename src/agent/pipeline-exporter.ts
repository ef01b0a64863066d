/**
 * A metric exporter that hands SDK metrics to Vigil's own ingest pipeline, through the same OTLP
 * protobuf encoding and decoder the receiver uses — so self-monitoring rows are exactly what an
 * external agent's would be, without a network hop or a token.
 */
import { ExportResultCode, type ExportResult } from '@opentelemetry/core';
import { ProtobufMetricsSerializer } from '@opentelemetry/otlp-transformer';
import { AggregationTemporality, type PushMetricExporter, type ResourceMetrics } from '@opentelemetry/sdk-metrics';
import { decodeOtlp } from '../ingest/otlp/decode.ts';
import type { TelemetryBatch } from '../model/telemetry.ts';

/** Exports into `submit` (the pipeline's). */
export class PipelineMetricExporter implements PushMetricExporter {
  constructor(private readonly submit: (batch: TelemetryBatch) => Promise<void>) {}

  export(metrics: ResourceMetrics, done: (result: ExportResult) => void): void {
    const bytes = ProtobufMetricsSerializer.serializeRequest(metrics);
    if (!bytes) return done({ code: ExportResultCode.FAILED, error: new Error('could not encode metrics') });
    let batch: TelemetryBatch;
    try {
      batch = decodeOtlp('metrics', bytes, 'protobuf').batch;
    } catch (err) {
      return done({ code: ExportResultCode.FAILED, error: err as Error });
    }
    this.submit(batch).then(
      () => done({ code: ExportResultCode.SUCCESS }),
      (err: Error) => done({ code: ExportResultCode.FAILED, error: err }),
    );
  }

  selectAggregationTemporality(): AggregationTemporality {
    return AggregationTemporality.CUMULATIVE;
  }

  async forceFlush(): Promise<void> {}

  async shutdown(): Promise<void> {}
}

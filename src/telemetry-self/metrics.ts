/**
 * Vigil's own metrics, exposed at /metrics in the Prometheus text format. One registry per server
 * instance (no global default registry), so tests can run several servers in one process.
 */
import { Counter, Gauge, Histogram, Registry } from 'prom-client';

/** The metrics Vigil keeps about itself. */
export class SelfMetrics {
  readonly registry = new Registry();
  readonly accepted = new Counter({
    name: 'vigil_ingest_records_accepted_total',
    help: 'Records committed to the telemetry store, by signal and receiver.',
    labelNames: ['signal', 'receiver'] as const,
    registers: [this.registry],
  });
  readonly rejected = new Counter({
    name: 'vigil_ingest_records_rejected_total',
    help: 'Records or requests refused, by signal, receiver and reason.',
    labelNames: ['signal', 'receiver', 'reason'] as const,
    registers: [this.registry],
  });
  readonly requests = new Counter({
    name: 'vigil_ingest_requests_total',
    help: 'Ingest requests by receiver and HTTP status code.',
    labelNames: ['receiver', 'code'] as const,
    registers: [this.registry],
  });
  readonly queueRows = new Gauge({
    name: 'vigil_ingest_queue_rows',
    help: 'Rows waiting for the next group commit.',
    registers: [this.registry],
  });
  readonly inflightBytes = new Gauge({
    name: 'vigil_ingest_inflight_body_bytes',
    help: 'Bytes of request bodies held in memory.',
    registers: [this.registry],
  });
  readonly commitSeconds = new Histogram({
    name: 'vigil_store_commit_seconds',
    help: 'Duration of one group commit to the telemetry store.',
    buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5],
    registers: [this.registry],
  });
  readonly commitRows = new Histogram({
    name: 'vigil_store_commit_rows',
    help: 'Rows written by one group commit.',
    buckets: [1, 10, 100, 1000, 5000, 10000, 25000, 50000, 100000],
    registers: [this.registry],
  });
  readonly storeBytes = new Gauge({
    name: 'vigil_store_bytes',
    help: 'Size of the telemetry store on disk.',
    registers: [this.registry],
  });
  readonly storeRows = new Gauge({
    name: 'vigil_store_rows',
    help: 'Rows per telemetry table.',
    labelNames: ['table'] as const,
    registers: [this.registry],
  });
  readonly redactions = new Counter({
    name: 'vigil_redactions_total',
    help: 'Values redacted before storage, by rule.',
    labelNames: ['rule'] as const,
    registers: [this.registry],
  });
  readonly retentionDeleted = new Counter({
    name: 'vigil_retention_deleted_rows_total',
    help: 'Rows removed by retention, by signal.',
    labelNames: ['signal'] as const,
    registers: [this.registry],
  });
  readonly ruleEvaluations = new Counter({
    name: 'vigil_alerting_rule_evaluations_total',
    help: 'Evaluations of alerting rules.',
    registers: [this.registry],
  });
  readonly ruleEvaluationFailures = new Counter({
    name: 'vigil_alerting_rule_evaluation_failures_total',
    help: 'Evaluations of alerting rules that failed (query error, too many series).',
    registers: [this.registry],
  });
  readonly ruleEvaluationSeconds = new Histogram({
    name: 'vigil_alerting_rule_evaluation_seconds',
    help: 'Duration of one evaluation of one alerting rule.',
    buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
    registers: [this.registry],
  });
  readonly alerts = new Gauge({
    name: 'vigil_alerts',
    help: 'Alerts of alerting rules by state (pending, firing, resolved and kept for its notification).',
    labelNames: ['state'] as const,
    registers: [this.registry],
  });
  readonly alertNotifications = new Counter({
    name: 'vigil_notifications_total',
    help: 'Notifications delivered or given up on, by integration and status (ok, failed).',
    labelNames: ['integration', 'status'] as const,
    registers: [this.registry],
  });
}

/**
 * Names Vigil writes under itself. Monitor history and Vigil's own records are trusted by the pages
 * that show uptime, so senders outside Vigil may not write under them (an ingest token could
 * otherwise forge a monitor's history).
 */

/** The `service.namespace` of everything Vigil writes about itself. */
export const VIGIL_NAMESPACE = 'vigil';

/** Service names only Vigil itself writes. */
export const RESERVED_SERVICE_NAMES: ReadonlySet<string> = new Set(['vigil-monitors']);

/** Metric name prefix only Vigil itself writes (check results). */
export const RESERVED_METRIC_PREFIX = 'vigil.check.';

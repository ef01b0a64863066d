/**
 * Names Vigil writes under itself. Monitor history and Vigil's own records are trusted by the pages
 * that show uptime, so senders outside Vigil may not write under them (an ingest token could
 * otherwise forge a monitor's history).
 */

/** The `service.namespace` of everything Vigil writes about itself. */
export const VIGIL_NAMESPACE = 'vigil';

/** The service Vigil's monitors write their check results and state changes under. */
export const MONITORS_SERVICE = 'vigil-monitors';

/** Service names only Vigil itself writes. */
export const RESERVED_SERVICE_NAMES: ReadonlySet<string> = new Set([MONITORS_SERVICE]);

/** Metric name prefix only Vigil itself writes (check results). */
export const RESERVED_METRIC_PREFIX = 'vigil.check.';

/**
 * Diagnosis (DESIGN.md §9, issue 14 §4): the shapes every detector, the ranker, the runner and the API share.
 *
 *   incident ─▶ scope (services, onset, window, baseline) ─▶ detectors in parallel, each time-boxed
 *            ─▶ Evidence[] ─▶ ranker ─▶ Hypothesis[] ─▶ stored report ─▶ GET /api/v1/incidents/{id}/diagnosis
 *
 * A detector reads telemetry only through the query service (query language or a view); it never writes
 * SQL and never knows a demo name: it reads OpenTelemetry semantic conventions (`service.version`,
 * `http.route`, `http.response.status_code`, `db.query.text`, `peer.service`/`server.address`,
 * `system.*`, `process.*` and `db.client.connection.*` metrics). Times are epoch milliseconds.
 */
import type { ChangeRecord } from '../store/state/changes.ts';
import type { QueryService } from '../query/service.ts';

/** Root-cause categories, a fixed list (the issue's). */
export const CATEGORIES = ['change', 'configuration', 'database', 'dependency', 'resource', 'code', 'capacity', 'availability'] as const;

/** A hypothesis' category. */
export type Category = (typeof CATEGORIES)[number];

/** A half-open time window `[fromMs, toMs)`. */
export interface TimeWindow {
  fromMs: number;
  toMs: number;
}

/**
 * What a diagnosis looks at. `window` is the incident window (from a little before the onset to now or the
 * resolution); `baseline` is the normal period it is compared with (the same length or longer, ending before
 * the window starts).
 */
export interface DiagnosisScope {
  /** The services the incident names (may be empty: then every service is in scope). */
  services: string[];
  /** The systems the incident names (`service.namespace` values), may be empty. */
  systems: string[];
  /** When the problem began as far as the incident knows (its start, or its first alert). */
  onsetMs: number;
  window: TimeWindow;
  baseline: TimeWindow;
}

/** A link from evidence to the exact data behind it: a UI path with its time range (`/logs?q=…&from=…&to=…`). */
export interface EvidenceLink {
  kind: 'logs' | 'traces' | 'trace' | 'query' | 'chart' | 'change' | 'service' | 'incident';
  label: string;
  /** A path of Vigil's UI, starting with `/`. */
  href: string;
}

/**
 * Whether a piece of evidence points at a cause (a change, a configuration write, a saturated resource, a slow
 * statement, a failing dependency) or shows a symptom (an operation got slower or fails more).
 */
export type EvidenceRole = 'cause' | 'symptom';

/** One finding of one detector, with its figures and links. */
export interface Evidence {
  /** The detector's name. */
  detector: string;
  category: Category;
  /**
   * The culprit, named exactly and stably (evidence of two detectors about one culprit must produce the
   * same string to be merged by the ranker): `lms-api 2.5.0` (a deploy), `payment-gateway` (a dependency),
   * the normalised statement, `host web-2 cpu`, the configuration key or table.
   */
  component: string;
  /** The services this finding concerns (the culprit's own first). */
  services: string[];
  role: EvidenceRole;
  /** How strong the signal is, 0..1 (0.5: worth a look; 0.9: unmistakable). */
  score: number;
  /** One line a person reads, with the figures in it. */
  summary: string;
  /** When this signal began (epoch ms), when the detector can tell. */
  onsetMs?: number;
  /** The numbers behind the summary: `{baseline_p95_ms: 120, window_p95_ms: 2300, ratio: 19.2}`. */
  figures: Record<string, number | string | null>;
  links: EvidenceLink[];
  /** What a responder should do next to confirm or fix, when the detector knows. */
  nextStep?: string;
}

/** A ranked explanation: evidence about one culprit, merged. */
export interface Hypothesis {
  /** 1 = most likely. */
  rank: number;
  category: Category;
  component: string;
  services: string[];
  /** 0..1. */
  confidence: number;
  summary: string;
  evidence: Evidence[];
  next_step: string;
}

/** How one detector's run went. */
export interface DetectorRun {
  name: string;
  state: 'ok' | 'failed' | 'timeout';
  ms: number;
  evidence: number;
  error?: string;
}

/** A stored diagnosis report (`GET /api/v1/incidents/{id}/diagnosis`). */
export interface DiagnosisReport {
  id: number;
  incidentId: number;
  state: 'running' | 'ready' | 'failed';
  /** Why it was run: when the incident opened, or asked for. */
  trigger: 'opened' | 'manual';
  startedAt: number;
  finishedAt: number | null;
  scope: DiagnosisScope;
  hypotheses: Hypothesis[];
  detectors: DetectorRun[];
  error?: string;
}

/** Past changes, as the change service lists them (newest first). */
export type ChangeLookup = (q: { fromMs: number; toMs: number; services?: string[] }) => Promise<ChangeRecord[]>;

/** A caller → callee edge of the service map over the window and baseline. */
export interface ServiceEdge {
  caller: string;
  /** The callee: a service that reports telemetry, or the `peer.service`/`server.address` of one that does not. */
  callee: string;
  /** Whether the callee reports its own telemetry. */
  instrumented: boolean;
}

/** What a detector gets. */
export interface DetectorContext {
  scope: DiagnosisScope;
  /** The one read seam (query language: `search`; views: `rows`). */
  queries: QueryService;
  changes: ChangeLookup;
  /** The service map (memoised for the run; every detector shares one answer). */
  topology: () => Promise<ServiceEdge[]>;
  /** Aborted when the run's time budget is spent; pass it on to long loops. */
  signal: AbortSignal;
}

/** One evidence source (DESIGN.md §9): `(window, baseline, query) → Evidence[]`. */
export interface Detector {
  /** Stable name, kebab-case (`operations`, `db-statements`). */
  name: string;
  /** What it looks for, one line (shown in the report and docs). */
  description: string;
  run(ctx: DetectorContext): Promise<Evidence[]>;
}

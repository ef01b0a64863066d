/**
 * The synthetic OTLP scenario player (issue 14 §5b): simulates the shop of `world.ts` for 42 minutes —
 * 32 of normal traffic, then 10 with a fault on — and lays it down with past timestamps through Vigil's
 * real OTLP receiver in a few seconds, chronologically in 4-minute batches (so change detection dates
 * versions as a live system would), announcing changes through `POST /api/v1/changes` as a pipeline does.
 *
 * Everything follows the OpenTelemetry semantic conventions: HTTP server spans (`http.route`,
 * `http.response.status_code`, 5xx = error), HTTP client spans (`server.address`, `peer.service`,
 * `error.type` on time-outs and refused connections), database client spans (`db.system.name`,
 * `db.query.text`, `db.operation.name`, `db.collection.name`), resources with `service.version`,
 * `service.instance.id`, `host.name`; host metrics as Vigil's agent sends them (`system.*`), process and
 * connection-pool metrics from the services; logs with severity and trace context.
 */
import { Batch } from './otlp.ts';
import { HostMetrics } from './metrics.ts';
import { Shop } from './shop.ts';
import type { Faults } from './world.ts';

const MIN = 60_000;
/** Normal traffic before the fault (the baseline window and the 2 minutes before the onset). */
export const BASELINE_MIN = 32;
/** The fault runs this long, up to the end of the data. */
export const FAULT_MIN = 10;
const BATCH_MS = 4 * MIN;

/** A change a pipeline announces (`POST /api/v1/changes`), `atOffsetMs` relative to the fault's start. */
export interface AnnouncedChange {
  atOffsetMs: number;
  service: string;
  kind: 'deploy' | 'config' | 'feature_flag' | 'infrastructure' | 'rollback' | 'restart' | 'other';
  version?: string;
  previousVersion?: string;
  description: string;
  attributes?: Record<string, string | number | boolean>;
}

/** What the player needs of a running Vigil. */
export interface Target {
  apiUrl: string;
  otlpUrl: string;
  token: string;
}

/** The simulated time line: traffic from `startMs`, the fault from `faultAt`, data up to `endMs`. */
export interface Timeline {
  startMs: number;
  faultAt: number;
  endMs: number;
}

/** What a play sent. */
export interface PlayResult extends Timeline {
  spans: number;
  logs: number;
  points: number;
  changes: number;
  ms: number;
}

/** A time line ending at `nowMs`: a live system reports up to the moment the incident opens. */
export function timelineEndingAt(nowMs: number): Timeline {
  const endMs = nowMs;
  const faultAt = endMs - FAULT_MIN * MIN;
  return { startMs: faultAt - BASELINE_MIN * MIN, faultAt, endMs };
}

/** Plays `faults` (and the announced `changes`) into `target`; `seed` makes the traffic reproducible. */
export async function play(target: Target, faults: Faults, changes: readonly AnnouncedChange[] = [], opts: { seed?: number; nowMs?: number } = {}): Promise<PlayResult> {
  const started = Date.now();
  const timeline = timelineEndingAt(opts.nowMs ?? Date.now());
  const shop = new Shop(timeline, faults, opts.seed ?? 7);
  const hosts = new HostMetrics(timeline, faults, opts.seed ?? 7);
  const pending = [...changes].sort((a, b) => a.atOffsetMs - b.atOffsetMs);
  const total = { spans: 0, logs: 0, points: 0, changes: 0 };
  for (let from = timeline.startMs; from < timeline.endMs; from += BATCH_MS) {
    const to = Math.min(from + BATCH_MS, timeline.endMs);
    // Changes are announced when they happen: before the telemetry that follows them.
    while (pending.length && timeline.faultAt + (pending[0] as AnnouncedChange).atOffsetMs < to) {
      await announce(target, timeline, pending.shift() as AnnouncedChange);
      total.changes++;
    }
    const batch = new Batch();
    shop.traffic(batch, from, to);
    hosts.collect(batch, from, to, shop);
    await batch.send(target.otlpUrl, target.token);
    total.spans += batch.counts.spans;
    total.logs += batch.counts.logs;
    total.points += batch.counts.points;
  }
  for (const c of pending) (await announce(target, timeline, c), total.changes++);
  return { ...timeline, ...total, ms: Date.now() - started };
}

async function announce(target: Target, timeline: Timeline, c: AnnouncedChange): Promise<void> {
  const body = {
    service: c.service,
    namespace: 'shop',
    kind: c.kind,
    ...(c.version ? { version: c.version } : {}),
    ...(c.previousVersion ? { previousVersion: c.previousVersion } : {}),
    description: c.description,
    timestamp: timeline.faultAt + c.atOffsetMs,
    source: 'ci-pipeline',
    author: 'release-bot',
    ...(c.attributes ? { attributes: c.attributes } : {}),
  };
  const res = await fetch(`${target.apiUrl}/api/v1/changes`, {
    method: 'POST',
    headers: { authorization: `Bearer ${target.token}`, 'content-type': 'application/json' },
    body: JSON.stringify(body),
  });
  if (res.status !== 201) throw new Error(`POST /api/v1/changes answered ${res.status}: ${await res.text()}`);
}

/**
 * The critical path of a trace: the chain of work the root span actually waited on, and how much of
 * the root's duration each span on it accounts for ("self time on the path").
 *
 * The walk starts at the root's end and goes backwards: the child that finished last before the
 * current point is what the parent was waiting for, so the path descends into it; when that child's
 * own path is done, the walk resumes at the child's start among the siblings that had ended by then.
 * Gaps between those children are the parent's own work. Pure: no clock, no store.
 */

/** What the walk needs of a span (times in Unix nanoseconds). */
export interface PathSpan {
  id: string;
  /** Empty or unknown for a root. */
  parentId: string | null;
  startNs: bigint;
  endNs: bigint;
  /** Spans of the same service share a clock, so one ending after its parent did not make it wait. */
  service?: string;
  /** `Producer`/`Consumer` children are messaging: the parent does not wait for them to finish. */
  kind?: string;
}

/** The spans on the critical path, each with the nanoseconds of the root's duration attributed to it. */
export type CriticalPath = Map<string, bigint>;

interface Interval {
  start: bigint;
  end: bigint;
}

const ASYNC_KINDS = new Set(['Producer', 'Consumer']);
const SAME_CLOCK_JITTER_NS = 1_000_000n;

/**
 * Where a child counts inside its parent's interval, or null when the parent did not wait for it.
 * One of the same service (one clock) or a messaging span that ends after the parent, or lies entirely
 * outside it, is asynchronous. Otherwise the difference is clock skew between hosts: an overhanging
 * child is clamped into the parent's interval, and one the other host's clock placed entirely outside
 * is shifted into it, centred (as Jaeger's clock-skew adjuster does), since the caller waited for it.
 */
function clampChild(child: PathSpan, parent: PathSpan, within: Interval): Interval | null {
  const sameClock = child.service !== undefined && child.service === parent.service;
  // Even one process's spans disagree by up to a millisecond: SDKs anchor each span's clock on its own
  // (OpenTelemetry JS reads Date.now(), millisecond resolution, at every span start). Within that, an
  // overhang is jitter, not a child the parent stopped waiting for.
  const asynchronous = ASYNC_KINDS.has(child.kind ?? '') || (sameClock && child.endNs > within.end + SAME_CLOCK_JITTER_NS);
  if (child.endNs <= within.start || child.startNs >= within.end) {
    const farOutside = child.startNs >= within.end + SAME_CLOCK_JITTER_NS || child.endNs + SAME_CLOCK_JITTER_NS <= within.start;
    if (asynchronous || (sameClock && farOutside)) return null;
    const duration = child.endNs > child.startNs ? child.endNs - child.startNs : 0n;
    const room = within.end - within.start;
    if (duration >= room) return { ...within };
    const start = within.start + (room - duration) / 2n;
    return { start, end: start + duration };
  }
  if (child.endNs > within.end && asynchronous) return null;
  return { start: child.startNs > within.start ? child.startNs : within.start, end: child.endNs < within.end ? child.endNs : within.end };
}

/** The root the path starts from: the longest span without a known parent (a broken trace may have several). */
function pickRoot(spans: readonly PathSpan[], ids: Set<string>): PathSpan | undefined {
  let best: PathSpan | undefined;
  for (const s of spans) {
    if (s.parentId && ids.has(s.parentId)) continue;
    if (!best || s.endNs - s.startNs > best.endNs - best.startNs || (s.endNs - s.startNs === best.endNs - best.startNs && s.startNs < best.startNs)) best = s;
  }
  return best;
}

/** Computes the critical path of a trace; spans not in the map are not on it. */
export function criticalPath(spans: readonly PathSpan[]): CriticalPath {
  const path: CriticalPath = new Map();
  const ids = new Set(spans.map((s) => s.id));
  const root = pickRoot(spans, ids);
  if (!root) return path;
  const children = new Map<string, PathSpan[]>();
  for (const s of spans) {
    if (!s.parentId || !ids.has(s.parentId) || s === root) continue;
    const list = children.get(s.parentId) ?? [];
    list.push(s);
    children.set(s.parentId, list);
  }

  // Each span's interval as the algorithm sees it, clamped top-down into its parent's; a child the
  // parent did not wait for is left out together with everything under it.
  const interval = new Map<PathSpan, Interval>([[root, { start: root.startNs, end: root.endNs < root.startNs ? root.startNs : root.endNs }]]);
  const kidsOf = new Map<PathSpan, PathSpan[]>();
  const queue = [root];
  for (let i = 0; i < queue.length; i++) {
    const parent = queue[i]!;
    const within = interval.get(parent)!;
    const kids: PathSpan[] = [];
    for (const c of children.get(parent.id) ?? []) {
      const iv = clampChild(c, parent, within);
      // interval.has: a span id repeated in a malformed trace is walked once.
      if (!iv || interval.has(c)) continue;
      interval.set(c, iv);
      kids.push(c);
      queue.push(c);
    }
    // Latest end first; among equal ends the longer child first (the one waited on longest).
    kids.sort((a, b) => {
      const ia = interval.get(a)!;
      const ib = interval.get(b)!;
      return ia.end !== ib.end ? (ib.end > ia.end ? 1 : -1) : ia.start === ib.start ? 0 : ia.start < ib.start ? -1 : 1;
    });
    kidsOf.set(parent, kids);
  }

  const credit = (s: PathSpan, ns: bigint) => path.set(s.id, (path.get(s.id) ?? 0n) + ns);
  // An explicit stack instead of recursion: a trace may nest thousands of spans deep.
  const stack: { span: PathSpan; cursor: bigint; next: number }[] = [{ span: root, cursor: interval.get(root)!.end, next: 0 }];
  path.set(root.id, 0n);
  while (stack.length) {
    const f = stack[stack.length - 1]!;
    const kids = kidsOf.get(f.span)!;
    // Children still running at the cursor ran in parallel with the one already on the path: skipped.
    while (f.next < kids.length && interval.get(kids[f.next]!)!.end > f.cursor) f.next++;
    const child = kids[f.next++];
    if (child) {
      const iv = interval.get(child)!;
      credit(f.span, f.cursor - iv.end);
      f.cursor = iv.start;
      path.set(child.id, path.get(child.id) ?? 0n);
      stack.push({ span: child, cursor: iv.end, next: 0 });
    } else {
      credit(f.span, f.cursor - interval.get(f.span)!.start);
      stack.pop();
    }
  }
  return path;
}

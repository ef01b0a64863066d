import { describe, expect, it } from 'vitest';
import { criticalPath, type PathSpan } from './critical-path.ts';

/** A span from milliseconds (converted to ns), in service `svc` unless told. */
function span(id: string, parentId: string | null, startMs: number, endMs: number, service = 'svc', kind = 'Internal'): PathSpan {
  return { id, parentId, startNs: BigInt(startMs) * 1_000_000n, endNs: BigInt(endMs) * 1_000_000n, service, kind };
}

/** The path as `{id: self ms}`, for readable expectations. */
function pathOf(spans: PathSpan[]): Record<string, number> {
  return Object.fromEntries([...criticalPath(spans)].map(([id, ns]) => [id, Number(ns) / 1e6]));
}

describe('criticalPath', () => {
  it('is the root alone when it has no children', () => {
    expect(pathOf([span('root', null, 0, 100)])).toEqual({ root: 100 });
  });

  it('follows every step of sequential work, not only the last one', () => {
    // A batch: three calls one after the other, then a tiny INSERT at the end.
    const spans = [span('root', null, 0, 100), span('a', 'root', 5, 30), span('b', 'root', 30, 60), span('c', 'root', 62, 97), span('insert', 'root', 97, 98)];
    expect(pathOf(spans)).toEqual({ root: 5 + 2 + 2, a: 25, b: 30, c: 35, insert: 1 });
  });

  it('takes only the slowest branch of a parallel fan-out', () => {
    const spans = [span('root', null, 0, 100), span('fast', 'root', 10, 40), span('slow', 'root', 10, 90), span('mid', 'root', 10, 60)];
    expect(pathOf(spans)).toEqual({ root: 20, slow: 80 });
  });

  it('descends into nested children and credits each level its own gaps', () => {
    const spans = [
      span('root', null, 0, 100, 'api', 'Server'),
      span('client', 'root', 10, 90, 'api', 'Client'),
      span('server', 'client', 12, 88, 'db-svc', 'Server'),
      span('query', 'server', 20, 70, 'db-svc', 'Client'),
      span('log', 'server', 15, 18, 'db-svc'),
    ];
    // server: waited on query 20–70, its own work 70–88 and 18–20, and the log call 15–18, own work 12–15.
    expect(pathOf(spans)).toEqual({ root: 20, client: 4, server: 18 + 2 + 3, query: 50, log: 3 });
  });

  it('resumes among the children that had ended before the one it followed started (overlapping work)', () => {
    // b overlaps a's end, so after following b the walk resumes at b's start: a is still running then
    // and is skipped; first ended before b started, so it is on the path.
    const spans = [span('root', null, 0, 100), span('first', 'root', 0, 20), span('a', 'root', 25, 60), span('b', 'root', 50, 95)];
    expect(pathOf(spans)).toEqual({ root: 5 + 30, first: 20, b: 45 });
  });

  it('credits self times that add up to the root duration', () => {
    const spans = [span('root', null, 0, 465), ...Array.from({ length: 27 }, (_, i) => span(`s${i}`, 'root', 5 + i * 17, 5 + i * 17 + 16))];
    const path = criticalPath(spans);
    expect(path.size).toBe(28);
    expect([...path.values()].reduce((a, b) => a + b, 0n)).toBe(465_000_000n);
  });

  it('clamps a child of another service skewed past its parent into the parent', () => {
    // The downstream host's clock runs 8 ms fast: its server span seems to start and end late.
    const spans = [span('root', null, 0, 100, 'api', 'Server'), span('client', 'root', 10, 90, 'api', 'Client'), span('remote', 'client', 20, 98, 'pay', 'Server'), span('early', 'root', -5, 8, 'cache', 'Client')];
    expect(pathOf(spans)).toEqual({ root: 10 + 2, early: 8, client: 10, remote: 70 });
  });

  it('leaves out asynchronous children that end after their parent', () => {
    const spans = [
      span('root', null, 0, 100, 'api', 'Server'),
      span('work', 'root', 10, 60, 'api'),
      // Fire-and-forget in the same process: ends after the root, the root did not wait.
      span('audit', 'root', 70, 300, 'api', 'Client'),
      span('audit-db', 'audit', 80, 290, 'audit-svc', 'Server'),
      // A message published to a queue and consumed later by another service.
      span('consume', 'root', 95, 400, 'worker', 'Consumer'),
    ];
    expect(pathOf(spans)).toEqual({ root: 50, work: 50 });
  });

  it('leaves out same-clock children entirely outside their parent, and shifts skewed ones of another service inside', () => {
    // Same service: outside means the parent never waited for it.
    expect(pathOf([span('root', null, 0, 100, 'svc'), span('after', 'root', 150, 200, 'svc'), span('before', 'root', -50, -10, 'svc')])).toEqual({ root: 100 });
    // Another host's clock put the server span 300 units late: centred in its caller, it is what the caller waited on.
    expect(pathOf([span('client', null, 0, 100, 'web'), span('server', 'client', 340, 380, 'api')])).toEqual({ client: 60, server: 40 });
  });

  it('reads a same-service overhang within a millisecond as clock jitter, not as an asynchronous child', () => {
    // OpenTelemetry JS anchors each span's clock on Date.now() at its start: sub-millisecond spans of one
    // process can appear to end after their parent.
    const us = (n: number) => BigInt(n) * 1000n;
    const at = (id: string, parentId: string | null, start: number, end: number): PathSpan => ({ id, parentId, startNs: us(start), endNs: us(end), service: 'lms-api', kind: 'Internal' });
    const path = criticalPath([at('root', null, 0, 2000), at('client', 'root', 100, 2400)]);
    expect([...path.keys()].sort()).toEqual(['client', 'root']);
  });

  it('starts from the longest root of a trace with missing parents, and survives deep nesting', () => {
    const spans = [span('short', null, 0, 10), span('orphan', 'missing', 0, 50)];
    expect(pathOf(spans)).toEqual({ orphan: 50 });
    const deep = [span('d0', null, 0, 40_000)];
    for (let i = 1; i < 15_000; i++) deep.push(span(`d${i}`, `d${i - 1}`, i, 40_000 - i));
    expect(criticalPath(deep).size).toBe(15_000);
    expect(criticalPath([])).toEqual(new Map());
  });
});

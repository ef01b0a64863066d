import { describe, expect, it } from 'vitest';
import type { LogRow, TelemetryBatch } from '../model/telemetry.ts';
import { RecordsRefusedError, type StoreStats, type TelemetryStore } from '../store/telemetry/store.ts';
import { IngestPipeline, QueueFullError, RecordsRejectedError, StoreUnavailableError } from './pipeline.ts';

/** A store whose commits wait until released, to hold the queue at a known depth. */
class GatedStore implements TelemetryStore {
  commits: number[] = [];
  fail = false;
  private gate: (() => void)[] = [];
  async write(batches: readonly TelemetryBatch[]): Promise<void> {
    await new Promise<void>((r) => this.gate.push(r));
    if (this.fail) throw new Error('disk full');
    // Like DuckDB refusing a value its column cannot hold: the whole write fails, the store stays healthy.
    if (batches.some((b) => b.logs.some((r) => r.body === 'unstorable'))) throw new RecordsRefusedError('bigint out of int64 range');
    this.commits.push(batches.reduce((n, b) => n + b.logs.length, 0));
  }
  release(): void {
    for (const r of this.gate.splice(0)) r();
  }
  async query() {
    return [];
  }
  async deleteOutside() {
    return 0;
  }
  async compact() {}
  async stats(): Promise<StoreStats> {
    return { bytes: 0, rows: {} };
  }
  async close() {}
}

function batch(n: number): TelemetryBatch {
  const row = { body: 'x' } as LogRow;
  return { logs: Array.from({ length: n }, () => row), spans: [], metrics: [] };
}

const tick = () => new Promise((r) => setImmediate(r));

describe('IngestPipeline', () => {
  it('groups requests that arrive during a commit into the next commit, and acks after it', async () => {
    const store = new GatedStore();
    const p = new IngestPipeline(store, { maxQueuedRows: 1000, maxRowsPerCommit: 1000 });
    let firstAcked = false;
    const first = p.submit(batch(10)).then(() => (firstAcked = true));
    await tick();
    const rest = [p.submit(batch(20)), p.submit(batch(30)), p.submit(batch(40))];
    await tick();
    expect(firstAcked).toBe(false);
    store.release();
    await first;
    await tick();
    store.release();
    await Promise.all(rest);
    expect(store.commits).toEqual([10, 90]);
  });

  it('refuses past the bound with a Retry-After estimate, but always takes one batch into an empty queue', async () => {
    const store = new GatedStore();
    const p = new IngestPipeline(store, { maxQueuedRows: 100, maxRowsPerCommit: 100 });
    const big = p.submit(batch(500));
    expect(p.depth).toBe(500);
    await expect(p.submit(batch(1))).rejects.toBeInstanceOf(QueueFullError);
    await expect(p.submit(batch(1))).rejects.toSatisfy((e: QueueFullError) => e.retryAfterSeconds >= 1);
    await tick();
    store.release();
    await big;
    expect(p.depth).toBe(0);
  });

  it('rejects every request of a failed commit with StoreUnavailableError', async () => {
    const store = new GatedStore();
    store.fail = true;
    const p = new IngestPipeline(store, { maxQueuedRows: 1000, maxRowsPerCommit: 1000 });
    const a = p.submit(batch(1));
    const b = p.submit(batch(2));
    await tick();
    store.release();
    await expect(a).rejects.toBeInstanceOf(StoreUnavailableError);
    await expect(b).rejects.toBeInstanceOf(StoreUnavailableError);
  });

  it('close() waits for queued rows to commit and then refuses new ones', async () => {
    const store = new GatedStore();
    const p = new IngestPipeline(store, { maxQueuedRows: 1000, maxRowsPerCommit: 1000 });
    const queued = p.submit(batch(5));
    let closed = false;
    const closing = p.close().then(() => (closed = true));
    await tick();
    expect(closed).toBe(false);
    store.release();
    await queued;
    await closing;
    expect(store.commits).toEqual([5]);
    await expect(p.submit(batch(1))).rejects.toBeInstanceOf(StoreUnavailableError);
  });

  it("fails only the request holding a record the store refuses, not the others sharing its commit", async () => {
    const store = new GatedStore();
    const p = new IngestPipeline(store, { maxQueuedRows: 1000, maxRowsPerCommit: 1000 });
    const first = p.submit(batch(1));
    const good = p.submit(batch(2));
    const bad = p.submit({ logs: [{ body: 'unstorable' } as LogRow], spans: [], metrics: [] }).catch((err: unknown) => err);
    const alsoGood = p.submit(batch(3));
    for (let i = 0; i < 10; i++) {
      await tick();
      store.release();
    }
    await first;
    await good;
    await alsoGood;
    expect(await bad).toBeInstanceOf(RecordsRejectedError);
    expect(store.commits).toEqual([1, 2, 3]);
  });

  it('tells its commit listener only about committed batches, and a listener that throws fails no request', async () => {
    const store = new GatedStore();
    const seen: number[] = [];
    const p = new IngestPipeline(store, {
      maxQueuedRows: 1000,
      maxRowsPerCommit: 1000,
      onCommit: (batches) => {
        seen.push(...batches.map((b) => b.logs.length));
        throw new Error('listener bug');
      },
    });
    const good = p.submit(batch(2));
    const bad = p.submit({ logs: [{ body: 'unstorable' } as LogRow], spans: [], metrics: [] }).catch((err: unknown) => err);
    const alsoGood = p.submit(batch(3));
    for (let i = 0; i < 10; i++) {
      await tick();
      store.release();
    }
    await good;
    await alsoGood;
    expect(await bad).toBeInstanceOf(RecordsRejectedError);
    expect(seen.sort()).toEqual([2, 3]);
  });
});

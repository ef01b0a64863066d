/**
 * The ingest pipeline's write side: a bounded queue drained by group commit. Requests that arrive
 * while a commit runs wait for the next one, so many requests share one transaction, and each is
 * acknowledged only after the commit that holds its rows succeeded (DESIGN.md §3).
 */
import { batchSize, type TelemetryBatch } from '../model/telemetry.ts';
import { RecordsRefusedError, type TelemetryWriter } from '../store/telemetry/store.ts';
import type { SelfMetrics } from '../telemetry-self/metrics.ts';

/** The queue is full: answer 429/503 with Retry-After. */
export class QueueFullError extends Error {
  constructor(readonly retryAfterSeconds: number) {
    super('ingest queue is full');
  }
}

/** The store failed to commit, or the pipeline is shutting down: answer 503. */
export class StoreUnavailableError extends Error {}

/** The store refused a request's records (a value it cannot hold): answer 400; retrying will not help. */
export class RecordsRejectedError extends Error {}

interface Pending {
  batch: TelemetryBatch;
  rows: number;
  resolve: () => void;
  reject: (err: Error) => void;
}

/** Options of {@link IngestPipeline}. */
export interface PipelineOptions {
  /** Processors that change a batch in place before it is queued (redaction). */
  processors?: ((batch: TelemetryBatch) => void)[];
  maxQueuedRows: number;
  maxRowsPerCommit: number;
  metrics?: SelfMetrics;
  /**
   * Called with each committed group's batches, after the commit and before the acknowledgements:
   * alerting evaluates the rules the new data touches at once instead of polling (must not throw).
   */
  onCommit?: (batches: readonly TelemetryBatch[]) => void;
}

/** Bounded queue → group commit → acknowledgement. */
export class IngestPipeline {
  private queue: Pending[] = [];
  private queuedRows = 0;
  private writing = false;
  private closing = false;
  private idle: (() => void)[] = [];
  // Recent commit throughput, to tell a refused client how long to wait.
  private rowsPerSecond = 50_000;

  constructor(
    private readonly store: TelemetryWriter,
    private readonly opts: PipelineOptions,
  ) {}

  /** Rows waiting to be committed. */
  get depth(): number {
    return this.queuedRows;
  }

  /** Queues a batch; resolves once it is committed. Throws {@link QueueFullError} when over the bound. */
  submit(batch: TelemetryBatch): Promise<void> {
    if (this.closing) return Promise.reject(new StoreUnavailableError('server is shutting down'));
    const rows = batchSize(batch);
    if (rows === 0) return Promise.resolve();
    // An empty queue always takes one batch, so a single large request is never refused forever.
    if (this.queuedRows > 0 && this.queuedRows + rows > this.opts.maxQueuedRows) {
      const seconds = Math.min(30, Math.max(1, Math.ceil(this.queuedRows / this.rowsPerSecond)));
      return Promise.reject(new QueueFullError(seconds));
    }
    // Only a batch that will be queued is worth redacting and promoting (backpressure is when it counts).
    for (const process of this.opts.processors ?? []) process(batch);
    return new Promise<void>((resolve, reject) => {
      this.queue.push({ batch, rows, resolve, reject });
      this.queuedRows += rows;
      this.opts.metrics?.queueRows.set(this.queuedRows);
      // setImmediate lets the requests decoded in this turn of the event loop join the same commit.
      if (!this.writing) {
        this.writing = true;
        setImmediate(() => void this.drain());
      }
    });
  }

  private async drain(): Promise<void> {
    while (this.queue.length > 0) {
      const group: Pending[] = [];
      let rows = 0;
      while (this.queue.length > 0 && (group.length === 0 || rows + this.queue[0]!.rows <= this.opts.maxRowsPerCommit)) {
        const p = this.queue.shift()!;
        group.push(p);
        rows += p.rows;
      }
      const started = performance.now();
      const failures = await this.commit(group);
      const seconds = (performance.now() - started) / 1000;
      this.queuedRows -= rows;
      this.opts.metrics?.queueRows.set(this.queuedRows);
      if (failures.size < group.length && this.opts.onCommit) {
        try {
          this.opts.onCommit(group.filter((p) => !failures.has(p)).map((p) => p.batch));
        } catch {
          // A listener's failure never fails an acknowledged commit.
        }
      }
      if (failures.size === 0) {
        this.opts.metrics?.commitSeconds.observe(seconds);
        this.opts.metrics?.commitRows.observe(rows);
        if (seconds > 0) this.rowsPerSecond = 0.8 * this.rowsPerSecond + 0.2 * (rows / seconds);
      }
      for (const p of group) {
        const err = failures.get(p);
        if (err) p.reject(err);
        else p.resolve();
      }
      // Let the acknowledgements go out and new requests queue before the next commit.
      await new Promise((r) => setImmediate(r));
    }
    this.writing = false;
    for (const fn of this.idle.splice(0)) fn();
  }

  /**
   * Commits a group; returns the requests that failed and why. When the store refuses a record, the
   * group is retried request by request, so that only the request holding it fails: one sender's bad
   * record must never fail the others that shared its commit.
   */
  private async commit(group: Pending[]): Promise<Map<Pending, Error>> {
    const failures = new Map<Pending, Error>();
    try {
      await this.store.write(group.map((p) => p.batch));
      return failures;
    } catch (err) {
      if (!(err instanceof RecordsRefusedError)) {
        const unavailable = new StoreUnavailableError(`telemetry store could not commit: ${(err as Error).message}`);
        for (const p of group) failures.set(p, unavailable);
        return failures;
      }
      if (group.length === 1) {
        failures.set(group[0]!, new RecordsRejectedError(`records could not be stored: ${err.message}`));
        return failures;
      }
    }
    for (const p of group) for (const [q, e] of await this.commit([p])) failures.set(q, e);
    return failures;
  }

  /** Stops accepting and resolves once everything queued is committed (SIGTERM drain). */
  async close(): Promise<void> {
    this.closing = true;
    if (!this.writing && this.queue.length === 0) return;
    await new Promise<void>((resolve) => this.idle.push(resolve));
  }
}

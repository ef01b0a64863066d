/**
 * Assembles monitoring for the server: store, scheduler and service from the configuration. The
 * server (src/server/app.ts) calls this once and starts/stops the result with itself.
 */
import { join, resolve } from 'node:path';
import type { Config } from '../config/config.ts';
import type { TelemetryBatch } from '../model/telemetry.ts';
import type { StateDb } from '../store/state/db.ts';
import type { QueryService } from '../query/service.ts';
import { MonitorScheduler } from './scheduler.ts';
import { MonitorService } from './service.ts';
import { MonitorStore, type SpecSealer } from '../store/state/monitors.ts';

/** A minimal logger (pino's shape). */
export interface MonitorLogger {
  info(obj: object, msg: string): void;
  warn(obj: object, msg: string): void;
  error(obj: object, msg: string): void;
}

/** Monitoring as the server holds it. */
export interface Monitoring {
  store: MonitorStore;
  scheduler: MonitorScheduler;
  service: MonitorService;
  /** The resolved monitors directory. */
  dir: string;
  start(): Promise<void>;
  stop(): Promise<void>;
}

/** Builds monitoring from the configuration; nothing runs until `start()`. */
export function createMonitoring(opts: { config: Config; state: StateDb; queries: QueryService; submit: (b: TelemetryBatch) => Promise<void>; log: MonitorLogger; secrets?: SpecSealer }): Monitoring {
  const { config } = opts;
  // Definitions hold database passwords and API credentials: sealed at rest when a key is available.
  const store = new MonitorStore(opts.state, opts.secrets);
  const scheduler = new MonitorScheduler({
    store,
    submit: opts.submit,
    policy: config.outbound,
    maxConcurrent: config.monitors.maxConcurrent,
    log: (level, message, err) => opts.log[level]({ err }, message),
  });
  const dir = resolve(config.monitors.dir || join(config.dataDir, 'monitors'));
  const service = new MonitorService({
    store,
    scheduler,
    queries: opts.queries,
    dir,
    log: (level, message) => opts.log[level]({}, message),
  });
  let started = false;
  return {
    store,
    scheduler,
    service,
    dir,
    async start() {
      if (!config.monitors.enabled) return;
      started = true;
      await service.start();
    },
    async stop() {
      if (started) await service.stop();
    },
  };
}

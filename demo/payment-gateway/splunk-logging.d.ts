// Minimal typings for the parts of splunk-logging the gateway uses (the package ships none).
declare module 'splunk-logging' {
  export interface SplunkContext {
    message: unknown;
    severity?: string;
    metadata?: { time?: number; host?: string; source?: string; sourcetype?: string; index?: string };
    [extra: string]: unknown;
  }
  export interface SplunkConfig {
    token: string;
    url?: string;
    name?: string;
    level?: string;
    batchInterval?: number;
    maxBatchCount?: number;
    maxBatchSize?: number;
    maxRetries?: number;
  }
  export class Logger {
    constructor(config: SplunkConfig);
    send(context: SplunkContext, callback?: (err: Error | null, resp: unknown, body: unknown) => void): void;
    flush(callback?: (err: Error | null, resp: unknown, body: unknown) => void): void;
    error: (err: Error, context: SplunkContext) => void;
    eventFormatter: (message: unknown, severity: string) => unknown;
    _makeBody(context: SplunkContext): Record<string, unknown>;
  }
}

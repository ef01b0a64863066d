/**
 * The host agent sending real /proc metrics into a real Vigil — through the SDK exporter, through
 * `vigil agent`, and in-process as Vigil's self-monitoring — and a payload shaped like the
 * OpenTelemetry Collector's hostmetrics receiver output landing under the same names.
 */
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { OTLPMetricExporter } from '@opentelemetry/exporter-metrics-otlp-proto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startHostAgent } from '../src/agent/agent.ts';
import { countRows, startTestVigil, type TestVigil } from './helpers/vigil.ts';

let v: TestVigil;
let readToken: string;

beforeAll(async () => {
  v = await startTestVigil({ demo: { enabled: false }, agent: { selfMonitor: true, interval: '1s' } });
  readToken = await v.server.tokens.create('reader', 'read');
});
afterAll(async () => {
  await v?.stop();
});

async function waitFor(what: string | (() => string), fn: () => Promise<boolean>, ms = 10_000): Promise<void> {
  const deadline = Date.now() + ms;
  while (Date.now() < deadline) {
    if (await fn()) return;
    await new Promise((r) => setTimeout(r, 200));
  }
  throw new Error(`timed out waiting for ${typeof what === 'string' ? what : what()}`);
}

const metricsApi = async (q: string) => {
  const res = await fetch(`${v.server.urls.api}/api/v1/apm/metrics?since=10m&${q}`, { headers: { authorization: `Bearer ${readToken}` } });
  expect(res.status).toBe(200);
  return (await res.json()) as { type: string; unit: string; series: { group?: unknown; points: unknown[] }[] };
};

describe('host agent', () => {
  it('sends CPU, memory, paging, disk, file system, network, load and top processes over OTLP; queryable through the API', async () => {
    const exporter = new OTLPMetricExporter({ url: `${v.server.urls.otlp}/v1/metrics`, headers: { Authorization: `Bearer ${v.ingestToken}` } });
    const agent = startHostAgent({ exporter, intervalMs: 60_000, hostName: 'sdk-host' });
    // Burn a little CPU so utilization and the top process are non-zero.
    const until = Date.now() + 150;
    while (Date.now() < until) Math.sqrt(Math.random());
    await agent.flush();
    await agent.stop();
    const host = `HostName = 'sdk-host' AND ServiceName = 'vigil-agent'`;
    for (const name of ['system.cpu.utilization', 'system.memory.utilization', 'system.filesystem.utilization', 'system.cpu.load_average.1m', 'system.cpu.load_average.15m', 'process.cpu.utilization']) {
      expect(await countRows(v.server, 'otel_metrics_gauge', `${host} AND MetricName = ?`, [name]), name).toBeGreaterThan(0);
    }
    for (const name of ['system.memory.usage', 'system.paging.usage', 'system.filesystem.usage', 'system.network.io', 'system.disk.io']) {
      expect(await countRows(v.server, 'otel_metrics_sum', `${host} AND MetricName = ?`, [name]), name).toBeGreaterThan(0);
    }
    // flush() and stop() each export once; look at the first collection.
    const modes = await v.server.store.query(`SELECT json_extract_string(Attributes, '$."cpu.mode"') AS mode, Value FROM otel_metrics_gauge WHERE ${host} AND MetricName = 'system.cpu.utilization' AND TimeUnix = (SELECT min(TimeUnix) FROM otel_metrics_gauge WHERE ${host} AND MetricName = 'system.cpu.utilization')`);
    expect(modes.map((r) => r.mode).sort()).toEqual(['idle', 'iowait', 'irq', 'nice', 'softirq', 'steal', 'system', 'user']);
    expect(modes.reduce((s, r) => s + Number(r.Value), 0)).toBeCloseTo(1, 5);
    const procs = await v.server.store.query(`SELECT json_extract_string(Attributes, '$."process.executable.name"') AS name, json_extract(Attributes, '$."process.pid"') AS pid FROM otel_metrics_gauge WHERE ${host} AND MetricName = 'process.cpu.utilization'`);
    expect(procs.length).toBeGreaterThan(0);
    expect(procs.map((p) => Number(p.pid))).toContain(process.pid);
    const api = await metricsApi('name=system.cpu.utilization&service=vigil-agent&group_by=cpu.mode');
    expect(api.type).toBe('gauge');
    expect(api.series.length).toBeGreaterThanOrEqual(8);
  });

  it('runs as `vigil agent --url --interval` with the token from VIGIL_TOKEN, and stops cleanly on SIGTERM', async () => {
    const proc = spawn(process.execPath, [join(import.meta.dirname, '../bin/vigil.js'), 'agent', '--url', v.server.urls.otlp, '--interval', '1s', '--host-name', 'cli-host'], {
      env: { ...process.env, VIGIL_TOKEN: v.ingestToken },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    proc.stdout.on('data', (d: Buffer) => (out += d.toString()));
    proc.stderr.on('data', (d: Buffer) => (out += d.toString()));
    const exited = new Promise<number | null>((r) => proc.on('exit', r));
    try {
      await waitFor(() => `metrics from vigil agent (${out})`, async () => (await countRows(v.server, 'otel_metrics_gauge', `HostName = 'cli-host' AND MetricName = 'system.memory.utilization'`)) > 0, 20_000);
    } finally {
      proc.kill('SIGTERM');
    }
    expect(await exited).toBe(0);
    expect(out).toContain('sending host metrics to');
  });

  it('monitors Vigil\'s own host in-process by default', async () => {
    await waitFor('self-monitoring metrics', async () => (await countRows(v.server, 'otel_metrics_gauge', `ServiceName = 'vigil-agent' AND HostName NOT IN ('sdk-host', 'cli-host') AND MetricName = 'system.cpu.utilization'`)) > 0);
  });

  it('understands an OpenTelemetry Collector hostmetrics payload under the same names', async () => {
    const now = `${Date.now()}000000`;
    const start = `${Date.now() - 60_000}000000`;
    const gauge = (name: string, points: [Record<string, string>, number][]) => ({
      name,
      unit: '1',
      gauge: { dataPoints: points.map(([attrs, v]) => ({ timeUnixNano: now, asDouble: v, attributes: Object.entries(attrs).map(([key, value]) => ({ key, value: { stringValue: value } })) })) },
    });
    const sum = (name: string, monotonic: boolean, points: [Record<string, string>, number][]) => ({
      name,
      unit: 'By',
      sum: {
        aggregationTemporality: 2,
        isMonotonic: monotonic,
        dataPoints: points.map(([attrs, v]) => ({ startTimeUnixNano: start, timeUnixNano: now, asInt: String(v), attributes: Object.entries(attrs).map(([key, value]) => ({ key, value: { stringValue: value } })) })),
      },
    });
    // As the collector's hostmetrics receiver (with resourcedetection) emits them.
    const payload = {
      resourceMetrics: [
        {
          resource: { attributes: [{ key: 'host.name', value: { stringValue: 'collector-host' } }, { key: 'os.type', value: { stringValue: 'linux' } }] },
          scopeMetrics: [
            {
              scope: { name: 'github.com/open-telemetry/opentelemetry-collector-contrib/receiver/hostmetricsreceiver/internal/scraper/cpuscraper', version: '0.110.0' },
              metrics: [gauge('system.cpu.utilization', [[{ cpu: 'cpu0', state: 'user' }, 0.25], [{ cpu: 'cpu0', state: 'idle' }, 0.75]])],
            },
            {
              scope: { name: 'github.com/open-telemetry/opentelemetry-collector-contrib/receiver/hostmetricsreceiver/internal/scraper/memoryscraper', version: '0.110.0' },
              metrics: [sum('system.memory.usage', false, [[{ state: 'used' }, 1_000_000], [{ state: 'free' }, 3_000_000]]), gauge('system.memory.utilization', [[{ state: 'used' }, 0.25]])],
            },
            {
              scope: { name: 'github.com/open-telemetry/opentelemetry-collector-contrib/receiver/hostmetricsreceiver/internal/scraper/networkscraper', version: '0.110.0' },
              metrics: [sum('system.network.io', true, [[{ device: 'eth0', direction: 'receive' }, 123456]])],
            },
            {
              scope: { name: 'github.com/open-telemetry/opentelemetry-collector-contrib/receiver/hostmetricsreceiver/internal/scraper/loadscraper', version: '0.110.0' },
              metrics: [gauge('system.cpu.load_average.1m', [[{}, 0.42]])],
            },
          ],
        },
      ],
    };
    const res = await fetch(`${v.server.urls.otlp}/v1/metrics`, { method: 'POST', headers: { authorization: `Bearer ${v.ingestToken}`, 'content-type': 'application/json' }, body: JSON.stringify(payload) });
    expect(res.status).toBe(200);
    const host = `HostName = 'collector-host'`;
    expect(await countRows(v.server, 'otel_metrics_gauge', `${host} AND MetricName = 'system.cpu.utilization'`)).toBe(2);
    expect(await countRows(v.server, 'otel_metrics_sum', `${host} AND MetricName = 'system.memory.usage' AND IsMonotonic = false`)).toBe(2);
    expect(await countRows(v.server, 'otel_metrics_sum', `${host} AND MetricName = 'system.network.io' AND IsMonotonic = true`)).toBe(1);
    // The same API query that charts the agent's memory charts the collector's.
    const mem = await metricsApi('name=system.memory.utilization&group_by=host.name');
    expect(mem.type).toBe('gauge');
    expect(JSON.stringify(mem.series)).toContain('collector-host');
  });
});

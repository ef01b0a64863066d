import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ConfigError, loadConfig, parseDuration } from './config.ts';

const dir = mkdtempSync(join(tmpdir(), 'vigil-config-'));
function file(name: string, text: string): string {
  const path = join(dir, name);
  writeFileSync(path, text);
  return path;
}

describe('loadConfig', () => {
  it('has documented defaults', () => {
    const c = loadConfig({ env: {} });
    expect(c).toMatchObject({ dataDir: './data', port: 4400, otlpPort: 4318, hecPort: 8088, host: '127.0.0.1' });
    expect(c.ingest.maxBodyBytes).toBe(20 * 1024 * 1024);
    expect(c.retention).toEqual({ logs: '7d', traces: '7d', metrics: '30d', interval: '1h' });
  });

  it('layers file < environment < flags', () => {
    const f = file('a.yaml', 'port: 5000\notlpPort: 5001\nhecPort: 5002\nretention:\n  logs: 3d\n');
    const c = loadConfig({ file: f, env: { VIGIL_OTLP_PORT: '6001', VIGIL_RETENTION__METRICS: '90d' }, flags: { hecPort: '7002' } });
    expect(c).toMatchObject({ port: 5000, otlpPort: 6001, hecPort: 7002 });
    expect(c.retention).toMatchObject({ logs: '3d', metrics: '90d', traces: '7d' });
  });

  it('reads JSON files and nested env keys', () => {
    const f = file('b.json', JSON.stringify({ ingest: { maxQueuedRows: 10 } }));
    const c = loadConfig({ file: f, env: { VIGIL_INGEST__MAX_BODY_BYTES: '1024' } });
    expect(c.ingest).toMatchObject({ maxQueuedRows: 10, maxBodyBytes: 1024 });
  });

  it.each([
    [{ env: { VIGIL_PORT: 'abc' } }, /port \(environment VIGIL_PORT\): /],
    [{ env: {}, flags: { otlpPort: '70000' } }, /otlpPort \(flag --otlp-port\): expected a port 0-65535/],
    [{ env: { VIGIL_RETENTION__LOGS: 'forever' } }, /retention\.logs \(environment VIGIL_RETENTION__LOGS\): expected a duration/],
    [{ env: { VIGIL_NOPE: '1' } }, /unknown key\(s\) "nope"/],
  ])('names the key, the source and the problem: %j', (opts, message) => {
    expect(() => loadConfig(opts)).toThrow(ConfigError);
    expect(() => loadConfig(opts)).toThrow(message);
  });

  it('names the file for errors in it, and an unreadable or malformed file', () => {
    const f = file('c.yaml', 'hecPort: -1\n');
    expect(() => loadConfig({ file: f, env: {} })).toThrow(/hecPort \(config file .*c\.yaml\): expected a port/);
    expect(() => loadConfig({ file: join(dir, 'missing.yaml'), env: {} })).toThrow(/cannot be read \(ENOENT\)/);
    const bad = file('d.yaml', 'port: [1,\n');
    expect(() => loadConfig({ file: bad, env: {} })).toThrow(/config file .*d\.yaml/);
  });
});

describe('parseDuration', () => {
  it.each([
    ['30s', 30_000],
    ['15m', 900_000],
    ['7d', 604_800_000],
    ['250ms', 250],
  ])('%s', (text, ms) => expect(parseDuration(text)).toBe(ms));
  it('rejects nonsense', () => expect(() => parseDuration('7 days')).toThrow(/invalid duration/));
});

import { describe, expect, it } from 'vitest';
import { getPath, renderTemplate } from './json-path.ts';
import { judge } from './http-check.ts';
import { handshakeResponse, nativePassword, parseHandshake, readPacket, writePacket } from './mysql-check.ts';
import { respCommand, respLine } from './redis-check.ts';

const doc = { data: { items: [{ id: 7, name: 'a' }, { id: 9, name: 'b' }] }, services: { 'lms-api': { url: 'http://x' } }, ok: true };

describe('json path and templates', () => {
  it.each([
    ['data.items[1].id', 9],
    ['$.data.items[0].name', 'a'],
    ['services.lms-api.url', 'http://x'],
    ['data.items[name=b].id', 9],
    ['data.items[5].id', undefined],
    ['ok', true],
    ['missing.deep', undefined],
  ])('%s', (path, value) => expect(getPath(doc, path)).toEqual(value));

  it('renders variables and refuses unknown ones', () => {
    expect(renderTemplate('{{base}}/api/{{ id }}', { base: 'http://h', id: '3' })).toBe('http://h/api/3');
    expect(() => renderTemplate('{{nope}}', {})).toThrow(/"nope" is not defined/);
  });
});

describe('judging an HTTP response', () => {
  const now = new Date('2025-01-10T00:00:00Z');
  const base = { status: 200, body: '{"status":"ok","n":3}', latencyMs: 50 };
  it.each([
    ['defaults accept 2xx', base, {}, 'up'],
    ['status not expected', { ...base, status: 500 }, {}, 'down'],
    ['explicit status list', { ...base, status: 404 }, { status: [404] }, 'up'],
    ['keyword present', base, { keyword: '"ok"' }, 'up'],
    ['keyword missing', base, { keyword: 'welcome' }, 'down'],
    ['keyword that must be absent', base, { keywordAbsent: 'ok' }, 'down'],
    ['json equals', base, { json: [{ path: 'n', equals: 3 }] }, 'up'],
    ['json differs', base, { json: [{ path: 'status', equals: 'fine' }] }, 'down'],
    ['json missing', base, { json: [{ path: 'x' }] }, 'down'],
    ['slow → degraded', { ...base, latencyMs: 900 }, { maxResponseTime: '500ms' }, 'degraded'],
    ['cert expiring → degraded', { ...base, certificate: { validTo: '2025-01-15T00:00:00Z', subject: '', issuer: '' } }, {}, 'degraded'],
    ['cert fine', { ...base, certificate: { validTo: '2026-01-15T00:00:00Z', subject: '', issuer: '' } }, {}, 'up'],
  ])('%s', (_n, ex, expect_, status) => {
    expect(judge(ex, { json: [], ...expect_ }, { now, expiryWarningDays: 14 }).status).toBe(status);
  });
});

describe('wire protocols', () => {
  it('frames and parses MySQL packets and the handshake', () => {
    const scramble = Buffer.from('abcdefghijklmnopqrst');
    const payload = Buffer.concat([
      Buffer.from([10]), Buffer.from('10.11.6-MariaDB\0'), Buffer.from([1, 0, 0, 0]), scramble.subarray(0, 8), Buffer.from([0]),
      Buffer.from([0xff, 0xf7, 33, 2, 0, 0xff, 0x81, 21]), Buffer.alloc(10), scramble.subarray(8), Buffer.from([0]), Buffer.from('mysql_native_password\0'),
    ]);
    const p = readPacket(writePacket(0, payload))!;
    expect(readPacket(writePacket(0, payload).subarray(0, 10))).toBeUndefined();
    const hs = parseHandshake(p.payload);
    expect(hs).toMatchObject({ version: '10.11.6-MariaDB', connectionId: 1, plugin: 'mysql_native_password' });
    expect(hs.scramble.equals(scramble)).toBe(true);
    expect(nativePassword('', scramble)).toHaveLength(0);
    expect(nativePassword('secret', scramble)).toHaveLength(20);
    expect(handshakeResponse('root', '', scramble).subarray(32).toString()).toBe('root\0\0mysql_native_password\0');
    expect(() => parseHandshake(Buffer.concat([Buffer.from([0xff, 0x6a, 0x04]), Buffer.from('Host not allowed')]))).toThrow(/1130: Host not allowed/);
  });

  it('encodes RESP commands and reads reply lines', () => {
    expect(respCommand('AUTH', 'pw')).toBe('*2\r\n$4\r\nAUTH\r\n$2\r\npw\r\n');
    expect(respLine(Buffer.from('+PONG\r\n'))).toBe('+PONG');
    expect(respLine(Buffer.from('+PON'))).toBeUndefined();
  });
});

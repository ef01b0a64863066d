import { describe, expect, it } from 'vitest';
import { formatFileError, parseMonitorsFile } from './files.ts';

describe('monitors files', () => {
  it('accepts a mapping with monitors, or a bare list, applying defaults', () => {
    const a = parseMonitorsFile('a.yaml', 'monitors:\n  - { id: web, name: Web, type: tcp, host: h, port: 80 }\n');
    const b = parseMonitorsFile('b.yaml', '- { id: web, name: Web, type: tcp, host: h, port: 80 }\n');
    expect(a.errors).toEqual([]);
    expect(b.monitors).toEqual(a.monitors);
    expect(a.monitors[0]).toMatchObject({ system: 'default', interval: '60s', timeout: '10s', retries: 0, enabled: true });
    expect(parseMonitorsFile('empty.yaml', '').monitors).toEqual([]);
  });

  it.each([
    ['a YAML syntax error', 'monitors:\n  - id: a\n   name: [\n', 'bad.yaml:3: '],
    ['an unknown type', 'monitors:\n  - id: a\n    name: A\n    type: ftp\n', 'bad.yaml:4: monitors[0].type (monitor a): '],
    ['a missing field', 'monitors:\n  - id: a\n    name: A\n    type: tcp\n    host: h\n', 'bad.yaml:2: monitors[0].port (monitor a): required'],
    ['an unknown key', 'monitors:\n  - id: a\n    name: A\n    type: tcp\n    host: h\n    port: 1\n    colour: red\n', 'bad.yaml:2: monitors[0] (monitor a): unknown key(s) "colour"'],
    ['a bad nested value', '- id: a\n  name: A\n  type: http\n  url: http://x/\n  expect:\n    json:\n      - path: "a[["\n', 'bad.yaml:7: [0].expect.json[0].path (monitor a): expected a path'],
    ['a duplicate id', '- { id: a, name: A, type: tcp, host: h, port: 1 }\n- { id: a, name: B, type: tcp, host: h, port: 2 }\n', 'bad.yaml: id: monitor id "a" is used twice'],
    ['not a list', 'monitors: 3\n', 'bad.yaml:1: monitors: expected a list'],
  ])('names file, line and field for %s', (_name, text, prefix) => {
    const r = parseMonitorsFile('bad.yaml', text);
    expect(r.monitors).toEqual([]);
    expect(r.errors.map(formatFileError).some((e) => e.startsWith(prefix))).toBe(true);
  });
});

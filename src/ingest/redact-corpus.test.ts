/**
 * The redactor against corpora: real-world secret formats (testdata/secrets.ts), each of which must
 * lose its secret, and ordinary log lines (testdata/ordinary-lines.txt: HTTP access lines, SQL, stack
 * traces, UUIDs, timestamps, order ids, versions, hex ids, durations, IPs), none of which may change.
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { buildRedactor } from './redact.ts';
import { SECRET_SAMPLES } from './testdata/secrets.ts';

const redactor = buildRedactor({ defaults: true, rules: [] }, () => undefined);
const ordinary = readFileSync(new URL('./testdata/ordinary-lines.txt', import.meta.url), 'utf8').split('\n').filter(Boolean);

describe('secret formats', () => {
  it.each(SECRET_SAMPLES.map((s) => [s.text, s.secrets] as const))('%s', (text, secrets) => {
    const out = redactor.text(text);
    for (const secret of secrets) expect(out).not.toContain(secret);
    expect(out).toContain('[REDACTED');
    // A second pass is a no-op: resources shared across requests are seen again.
    expect(redactor.text(out)).toBe(out);
  });

  it('also inside attribute values at any depth', () => {
    for (const { text, secrets } of SECRET_SAMPLES) {
      const out = JSON.stringify(redactor.attributes({ 'log.record.original': text, nested: { list: [text] } }));
      for (const secret of secrets) expect(out).not.toContain(secret);
    }
  });
});

describe('ordinary log lines', () => {
  it('has at least 100 lines', () => expect(ordinary.length).toBeGreaterThanOrEqual(100));

  it('leaves every line unchanged', () => {
    const changed = ordinary.map((line) => [line, redactor.text(line)]).filter(([a, b]) => a !== b);
    expect(changed).toEqual([]);
  });
});

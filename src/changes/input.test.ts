import { describe, expect, it } from 'vitest';
import { ChangeInputError, parseChangeInput, parseChangeTime } from './input.ts';

const NOW = Date.UTC(2026, 11, 1, 12, 0, 0);

function refusal(body: unknown): ChangeInputError {
  try {
    parseChangeInput(body, NOW);
  } catch (err) {
    expect(err).toBeInstanceOf(ChangeInputError);
    return err as ChangeInputError;
  }
  throw new Error('expected a refusal');
}

describe('parseChangeInput', () => {
  it('fills defaults: now, empty namespace and description, nulls, source api', () => {
    expect(parseChangeInput({ service: ' cart ', kind: 'config' }, NOW)).toEqual({
      at: NOW,
      service: 'cart',
      namespace: '',
      kind: 'config',
      version: null,
      previousVersion: null,
      description: '',
      author: null,
      commit: null,
      source: 'api',
      attributes: {},
      createdAt: NOW,
    });
  });

  it('maps source: cli stays cli, api is api, another sender becomes the reporter attribute unless one is given', () => {
    expect(parseChangeInput({ service: 'a', kind: 'deploy', source: 'cli' }, NOW).source).toBe('cli');
    expect(parseChangeInput({ service: 'a', kind: 'deploy', source: 'api' }, NOW)).toMatchObject({ source: 'api', attributes: {} });
    expect(parseChangeInput({ service: 'a', kind: 'deploy', source: 'vigil-demo' }, NOW)).toMatchObject({ source: 'api', attributes: { reporter: 'vigil-demo' } });
    expect(parseChangeInput({ service: 'a', kind: 'deploy', source: 'argo', attributes: { reporter: 'flux' } }, NOW).attributes).toEqual({ reporter: 'flux' });
    expect(refusal({ service: 'a', kind: 'deploy', source: 'detected' }).field).toBe('source');
  });

  it('keeps newlines in a description but refuses control characters elsewhere', () => {
    expect(parseChangeInput({ service: 'a', kind: 'other', description: 'line 1\nline 2' }, NOW).description).toBe('line 1\nline 2');
    expect(refusal({ service: 'a\nb', kind: 'other' }).message).toBe('service: must not hold control characters');
    expect(refusal({ service: 'a', kind: 'other', attributes: { 'a\u0001': 'x' } }).field).toBe('attributes.a\u0001');
  });

  it('refuses more than 50 attributes, naming the field', () => {
    const many = Object.fromEntries(Array.from({ length: 51 }, (_, i) => [`k${i}`, i]));
    expect(refusal({ service: 'a', kind: 'other', attributes: many }).message).toBe('attributes: at most 50 attributes (got 51)');
    expect(refusal({ service: 'a', kind: 'other', attributes: { n: Number.NaN } }).field).toBe('attributes.n');
  });
});

describe('parseChangeTime', () => {
  it('reads ISO-8601, Unix ms as a number or digits, and defaults to now', () => {
    expect(parseChangeTime('2026-12-01T10:00:00Z', NOW)).toBe(Date.UTC(2026, 11, 1, 10));
    expect(parseChangeTime('2026-12-01T11:00:00+01:00', NOW)).toBe(Date.UTC(2026, 11, 1, 10));
    expect(parseChangeTime(NOW - 5, NOW)).toBe(NOW - 5);
    expect(parseChangeTime(String(NOW - 5), NOW)).toBe(NOW - 5);
    expect(parseChangeTime(undefined, NOW)).toBe(NOW);
    expect(parseChangeTime('', NOW)).toBe(NOW);
    // Up to a day ahead (a scheduled flag flip, clock skew), not more.
    expect(parseChangeTime(NOW + 86_400_000, NOW)).toBe(NOW + 86_400_000);
    expect(() => parseChangeTime(NOW + 86_400_001, NOW)).toThrow('timestamp: more than a day in the future');
    expect(() => parseChangeTime(true, NOW)).toThrow('timestamp: expected an ISO-8601 time or Unix milliseconds');
  });
});

import { describe, expect, it } from 'vitest';
import { Drain, maskMessage, templateText, tokenize, WILDCARD } from './drain.ts';

describe('maskMessage', () => {
  it('masks ids, addresses and numbers', () => {
    expect(maskMessage('order 42 of 5a3c0e1e-8f0b-4c3a-9d5e-1b2c3d4e5f60 from 10.0.0.12:5432 took 12.5ms')).toBe('order <*> of <*> from <*> took <*>ms');
    expect(maskMessage('trace 4bf92f3577b34da6a3ce929d0e0e4736 ptr 0xdeadBEEF')).toBe('trace <*> ptr <*>');
    expect(maskMessage('version 2.5.0 deployed')).toBe('version <*> deployed');
  });
  it('keeps words that only look like hex', () => {
    expect(maskMessage('cafebabe deadbeef accepted')).toBe('cafebabe deadbeef accepted');
  });
  it('splits on white space', () => {
    expect(tokenize('  a\tb\n 7 ')).toEqual(['a', 'b', WILDCARD]);
  });
});

describe('Drain', () => {
  it('mines one template per message shape and generalises differing tokens', () => {
    const d = new Drain();
    for (const u of ['alice', 'bob', 'carol']) d.add(`user ${u} logged in from 10.1.2.${u.length}`);
    for (let i = 0; i < 5; i++) d.add(`payment ${i} declined: card expired`);
    d.add('cache warmed');
    const list = d.clusters().map((c) => [templateText(c), c.count]);
    expect(list).toEqual([
      ['user <*> logged in from <*>', 3],
      ['payment <*> declined: card expired', 5],
      ['cache warmed', 1],
    ]);
  });

  it('keeps messages of different meaning apart even at the same length', () => {
    const d = new Drain();
    d.add('connection pool main exhausted after 1000 ms');
    d.add('request to ledger timed out after 2500 ms');
    d.add('connection pool replica exhausted after 900 ms');
    expect(d.clusters().map(templateText)).toEqual(['connection pool <*> exhausted after <*> ms', 'request to ledger timed out after <*> ms']);
  });

  it('routes ids in first position to one branch', () => {
    const d = new Drain();
    for (let i = 0; i < 50; i++) d.add(`${1000 + i} items shipped to warehouse`);
    expect(d.clusters()).toHaveLength(1);
    expect(d.clusters()[0]!.count).toBe(50);
  });

  it('matches without adding', () => {
    const d = new Drain();
    d.add('disk /var/data is 91% full');
    const c = d.match('disk /var/data is 97% full');
    expect(c?.count).toBe(1);
    expect(d.match('something else entirely')).toBeUndefined();
    expect(d.clusters()[0]!.count).toBe(1);
  });

  it('bounds its clusters and children', () => {
    const d = new Drain({ maxClusters: 10, maxChildren: 3 });
    for (let i = 0; i < 100; i++) d.add(`w${String.fromCharCode(97 + (i % 26))}x${String.fromCharCode(97 + ((i * 7) % 26))} unique shape ${'z'.repeat(i % 13)}`);
    expect(d.clusters().length).toBeLessThanOrEqual(10);
  });

  it('does not let an all-variable template swallow every message', () => {
    const d = new Drain();
    d.add('42');
    expect(d.add('7')?.id).toBe(1);
    d.add('started');
    expect(d.clusters().map(templateText)).toEqual(['<*>', 'started']);
  });
});

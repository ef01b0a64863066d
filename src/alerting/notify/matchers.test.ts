import { describe, expect, it } from 'vitest';
import type { AmMatcher } from '../../api/contract.ts';
import { compileMatcherRegex, formatMatcher, formatMatchers, fromAmMatcher, matches, MAX_REGEX_LENGTH, parseMatcher, parseMatchers, toAmMatcher, type Matcher } from './matchers.ts';

const plain = (ms: Matcher[]) => ms.map((m) => [m.name, m.type, m.value]);

describe('parseMatchers (Alertmanager classic syntax)', () => {
  it.each([
    ['foo=bar', [['foo', '=', 'bar']]],
    ['foo="bar"', [['foo', '=', 'bar']]],
    ['{foo="bar"}', [['foo', '=', 'bar']]],
    ['{foo=~"bar.*", baz!="qux"}', [['foo', '=~', 'bar.*'], ['baz', '!=', 'qux']]],
    ['foo!~"b|c"', [['foo', '!~', 'b|c']]],
    ['foo = "bar"', [['foo', '=', 'bar']]],
    ['  foo=bar  ', [['foo', '=', 'bar']]],
    ['foo=', [['foo', '=', '']]],
    ['foo=""', [['foo', '=', '']]],
    ['foo="bar,baz"', [['foo', '=', 'bar,baz']]],
    ['foo="bar\\"baz"', [['foo', '=', 'bar"baz']]],
    ['foo="bar\\\\baz"', [['foo', '=', 'bar\\baz']]],
    ['foo="line\\nbreak"', [['foo', '=', 'line\nbreak']]],
    ['foo="a\\.b"', [['foo', '=', 'a\\.b']]],
    ['foo=unquoted value', [['foo', '=', 'unquoted value']]],
    ['{foo="bar",}', [['foo', '=', 'bar']]],
    ['job:rate5m="x"', [['job:rate5m', '=', 'x']]],
    ['{a="1",b=~"2|3",c!="4",d!~"5"}', [['a', '=', '1'], ['b', '=~', '2|3'], ['c', '!=', '4'], ['d', '!~', '5']]],
  ])('%s', (text, want) => {
    expect(plain(parseMatchers(text))).toEqual(want);
  });

  it.each([
    ['foo', 'bad matcher format'],
    ['1foo="x"', 'bad matcher format'],
    ['foo="bar', 'unescaped double quote'],
    ['foo="ba"r"', 'unescaped double quote'],
    ['foo=bar"', 'unescaped double quote'],
    ['a="1",,b="2"', 'bad matcher format'],
    ['foo=~"(unclosed"', 'invalid regex'],
  ])('refuses %s', (text, message) => {
    expect(() => parseMatchers(text)).toThrow(message);
  });
});

describe('matching', () => {
  it.each([
    ['foo="bar"', { foo: 'bar' }, true],
    ['foo="bar"', { foo: 'barx' }, false],
    ['foo!="bar"', { foo: 'baz' }, true],
    ['foo!="bar"', {}, true],
    ['foo=""', {}, true],
    ['foo=~"ba."', { foo: 'bar' }, true],
    // Anchored at both ends: a substring does not match.
    ['foo=~"ar"', { foo: 'bar' }, false],
    ['foo=~"a|b"', { foo: 'ab' }, false],
    ['foo!~"ba."', { foo: 'bar' }, false],
    ['foo!~"ba."', {}, true],
    ['foo=~".*"', {}, true],
    ['foo=~".+"', {}, false],
    ['foo=~"(?i)crit.*"', { foo: 'CRITICAL' }, true],
    ['{a="1", b=~"x|y"}', { a: '1', b: 'y' }, true],
    ['{a="1", b=~"x|y"}', { a: '1', b: 'z' }, false],
  ] as const)('%s on %j → %s', (text, labels, want) => {
    expect(matches(parseMatchers(text), labels)).toBe(want);
  });

  it('limits regex length (JavaScript has no RE2)', () => {
    expect(() => compileMatcherRegex('a'.repeat(MAX_REGEX_LENGTH + 1))).toThrow(`longer than ${MAX_REGEX_LENGTH}`);
    expect(compileMatcherRegex('a'.repeat(MAX_REGEX_LENGTH)).test('a'.repeat(MAX_REGEX_LENGTH))).toBe(true);
  });
});

describe('formatting and API v2 conversion', () => {
  it('prints matchers as Alertmanager does (OpenMetrics escaping)', () => {
    expect(formatMatcher(parseMatcher('foo=~"a\\"b\\\\c\\nd"'))).toBe('foo=~"a\\"b\\\\c\\nd"');
    expect(formatMatchers(parseMatchers('{a=b, c!~"d"}'))).toBe('{a="b",c!~"d"}');
    expect(formatMatchers([])).toBe('{}');
  });

  it('round-trips through its own printing', () => {
    for (const text of ['a="x y"', 'b!~"p\\"q"', 'c=~"line\\nbreak"', 'd!="\\\\"']) {
      const m = parseMatcher(text);
      expect(plain(parseMatchers(formatMatcher(m)))).toEqual(plain([m]));
    }
  });

  it.each([
    [{ name: 'a', value: 'b', isRegex: false, isEqual: true }, '='],
    [{ name: 'a', value: 'b', isRegex: false, isEqual: false }, '!='],
    [{ name: 'a', value: 'b', isRegex: true, isEqual: true }, '=~'],
    [{ name: 'a', value: 'b', isRegex: true, isEqual: false }, '!~'],
    [{ name: 'a', value: 'b', isRegex: true }, '=~'],
  ] as [AmMatcher, string][])('API v2 %j ↔ %s', (am, type) => {
    const m = fromAmMatcher(am);
    expect(m.type).toBe(type);
    expect(toAmMatcher(m)).toEqual({ ...am, isEqual: am.isEqual ?? true });
  });
});

/** The runbook Markdown subset: blocks, inline marks, and what it refuses (HTML stays text, unsafe links lose the link). */
import { describe, expect, it } from 'vitest';
import { parseInline, parseMarkdown, safeHref } from './markdown.ts';

describe('runbook Markdown', () => {
  it('parses headings, paragraphs, lists, code, quotes and rules', () => {
    const doc = parseMarkdown('# Checkout\n\nFirst line\nsecond line.\n\n- one\n- **two**\n  continued\n\n3. three\n4. four\n\n```sh\ncurl -X POST x\n```\n\n> careful\n\n---');
    expect(doc).toEqual([
      { type: 'heading', level: 1, children: [{ type: 'text', text: 'Checkout' }] },
      { type: 'paragraph', children: [{ type: 'text', text: 'First line\nsecond line.' }] },
      { type: 'list', ordered: false, start: 1, items: [[{ type: 'text', text: 'one' }], [{ type: 'strong', children: [{ type: 'text', text: 'two' }] }, { type: 'text', text: ' continued' }]] },
      { type: 'list', ordered: true, start: 3, items: [[{ type: 'text', text: 'three' }], [{ type: 'text', text: 'four' }]] },
      { type: 'code', lang: 'sh', text: 'curl -X POST x' },
      { type: 'quote', children: [{ type: 'paragraph', children: [{ type: 'text', text: 'careful' }] }] },
      { type: 'rule' },
    ]);
  });

  it('parses inline code, emphasis and links', () => {
    expect(parseInline('run `vigil incident show` *now*, see [the docs](https://example.com/x) and _this_; snake_case stays')).toEqual([
      { type: 'text', text: 'run ' },
      { type: 'code', text: 'vigil incident show' },
      { type: 'text', text: ' ' },
      { type: 'em', children: [{ type: 'text', text: 'now' }] },
      { type: 'text', text: ', see ' },
      { type: 'link', href: 'https://example.com/x', children: [{ type: 'text', text: 'the docs' }] },
      { type: 'text', text: ' and ' },
      { type: 'em', children: [{ type: 'text', text: 'this' }] },
      { type: 'text', text: '; snake_case stays' },
    ]);
  });

  it('keeps HTML as text and drops unsafe link targets', () => {
    expect(parseMarkdown('<img src=x onerror="alert(1)"> <script>x</script>')).toEqual([{ type: 'paragraph', children: [{ type: 'text', text: '<img src=x onerror="alert(1)"> <script>x</script>' }] }]);
    expect(parseInline('[click](javascript:alert(1))')).toEqual([{ type: 'text', text: 'click' }, { type: 'text', text: ')' }]);
    expect(parseInline('[x](data:text/html,hi)')).toEqual([{ type: 'text', text: 'x' }]);
    expect(safeHref('//evil.example/x')).toBeUndefined();
    expect(safeHref('/incidents/3')).toBe('/incidents/3');
    expect(safeHref('mailto:oncall@example.com')).toBe('mailto:oncall@example.com');
  });
});

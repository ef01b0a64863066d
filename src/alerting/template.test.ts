import { describe, expect, it } from 'vitest';
import { expandAnnotations, expandTemplate, goG, humanize, humanizeDuration, printf } from './template.ts';

const data = { labels: { service_name: 'rms-api', http_route: '/pay', 'odd-name': 'x' }, value: 0.0734, externalURL: 'http://vigil.local:4400' };
const t = (text: string, value: number | null = data.value) => expandTemplate(text, { ...data, value });

describe('expandTemplate', () => {
  const table: [string, string, number | null, string][] = [
    ['labels', '{{ $labels.service_name }} {{$labels.http_route}}', 0, 'rms-api /pay'],
    ['.Labels form', '{{ .Labels.service_name }}', 0, 'rms-api'],
    ['a missing label is empty', '[{{ $labels.nope }}]', 0, '[]'],
    ['index for odd label names', '{{ index $labels "odd-name" }}', 0, 'x'],
    ['value', 'v={{ $value }}', 0.0734, 'v=0.0734'],
    ['value null', 'v={{ $value }}', null, 'v='],
    ['humanize piped', '{{ $value | humanize }}', 1234567, '1.235M'],
    ['humanize called', '{{ humanize $value }}', 0.0012, '1.2m'],
    ['humanizePercentage', '{{ $value | humanizePercentage }}', 0.0734, '7.34%'],
    ['humanizeDuration', '{{ humanizeDuration $value }}', 93784, '1d 2h 3m 4s'],
    ['printf', '{{ printf "%.2f" $value }}', 5.4321, '5.43'],
    ['printf with label', '{{ printf "%s: %.1f%%" $labels.service_name $value }}', 7.34, 'rms-api: 7.3%'],
    ['externalURL', '{{ $externalURL }}/alerts', 0, 'http://vigil.local:4400/alerts'],
    ['toUpper', '{{ $labels.service_name | toUpper }}', 0, 'RMS-API'],
    ['unknown function left as written', 'a {{ template "x" . }} b', 0, 'a {{ template "x" . }} b'],
    ['unknown variable left as written', '{{ $foo }}', 0, '{{ $foo }}'],
    ['range left as written', '{{ range $labels }}x{{ end }}', 0, '{{ range $labels }}x{{ end }}'],
    ['humanize of a label that is not a number left as written', '{{ $labels.service_name | humanize }}', 0, '{{ $labels.service_name | humanize }}'],
    ['unclosed braces are text', 'a {{ $value', 1, 'a {{ $value'],
    ['trim markers', 'a   {{- $value -}}   b', 1, 'a1b'],
    ['comment', 'a{{/* note */}}b', 1, 'ab'],
    ['no HTML escaping', '{{ $labels.x }}<b>', 1, '<b>'],
    ['infinite value', '{{ $value }}', Infinity, '+Inf'],
  ];
  for (const [name, text, value, expected] of table) {
    it(name, () => expect(t(text, value)).toBe(expected));
  }

  it('never throws, whatever it is given', () => {
    for (const text of ['{{', '}}', '{{}}', '{{ | }}', '{{ printf }}', '{{ printf "%d" }}', '{{ "unterminated }}', '{{ humanize }}', '{{ humanize 1 2 }}', '{{ index $labels }}']) {
      expect(() => t(text)).not.toThrow();
    }
    expect(t('{{ printf "%d" }}')).toBe('%!d(MISSING)');
  });

  it('expands every annotation', () => {
    expect(expandAnnotations({ summary: '{{ $labels.service_name }} at {{ $value | humanizePercentage }}', runbook: 'http://r' }, data)).toEqual({ summary: 'rms-api at 7.34%', runbook: 'http://r' });
  });
});

describe('Prometheus number formats', () => {
  it('goG matches Go %.4g', () => {
    expect([0.0734, 1234.6, 12346, 0.00001234, 100, 1e21, -2.5].map((v) => goG(v, 4))).toEqual(['0.0734', '1235', '1.235e+04', '1.234e-05', '100', '1e+21', '-2.5']);
  });
  it('humanize', () => {
    expect([0, 1, 999, 1000, 1500000, 0.5, 0.000002].map(humanize)).toEqual(['0', '1', '999', '1k', '1.5M', '500m', '2u']);
  });
  it('humanizeDuration', () => {
    expect([0, 1.5, 61, 3661, 0.25, -61].map(humanizeDuration)).toEqual(['0s', '1.5s', '1m 1s', '1h 1m 1s', '250ms', '-1m 1s']);
  });
  it('printf flags and widths', () => {
    expect(printf('%5.1f|%-4d|%04d|%+d|%x|%q', [3.14159, 7, 42, 5, 255, 'a'])).toBe('  3.1|7   |0042|+5|ff|"a"');
  });
});

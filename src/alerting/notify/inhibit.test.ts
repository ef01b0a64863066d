import { describe, expect, it } from 'vitest';
import type { Labels } from '../types.ts';
import { parseNotificationConfig } from './config.ts';
import { Inhibitor, type InhibitSource } from './inhibit.ts';

function inhibitor(rules: string): Inhibitor {
  const r = parseNotificationConfig(`route: {receiver: a}\nreceivers: [{name: a}]\ninhibit_rules:\n${rules}`);
  if (!r.config) throw new Error(JSON.stringify(r.errors));
  return new Inhibitor(r.config.inhibitRules);
}

const src = (fingerprint: string, labels: Labels): InhibitSource => ({ fingerprint, labels });

describe('Inhibitor', () => {
  const critMutesWarn = inhibitor(`  - source_matchers: ['severity="critical"']
    target_matchers: ['severity="warning"']
    equal: [alertname, service_name]
`);

  it.each([
    ['a firing critical mutes the warning with the same equal labels', { alertname: 'Err', service_name: 'api', severity: 'warning' }, [src('c1', { alertname: 'Err', service_name: 'api', severity: 'critical' })], ['c1']],
    ['a different equal label does not', { alertname: 'Err', service_name: 'api', severity: 'warning' }, [src('c1', { alertname: 'Err', service_name: 'web', severity: 'critical' })], []],
    ['missing on both sides counts as equal', { alertname: 'Err', severity: 'warning' }, [src('c1', { alertname: 'Err', severity: 'critical' })], ['c1']],
    ['missing on one side is not equal', { alertname: 'Err', severity: 'warning' }, [src('c1', { alertname: 'Err', service_name: 'api', severity: 'critical' })], []],
    ['a non-target is not muted', { alertname: 'Err', service_name: 'api', severity: 'info' }, [src('c1', { alertname: 'Err', service_name: 'api', severity: 'critical' })], []],
    ['no firing source, no inhibition', { alertname: 'Err', service_name: 'api', severity: 'warning' }, [], []],
    [
      'every inhibiting alert is named',
      { alertname: 'Err', service_name: 'api', severity: 'warning' },
      [src('c2', { alertname: 'Err', service_name: 'api', severity: 'critical', pod: 'b' }), src('c1', { alertname: 'Err', service_name: 'api', severity: 'critical', pod: 'a' })],
      ['c1', 'c2'],
    ],
  ])('%s', (_, labels, firing, want) => {
    expect(critMutesWarn.mutes(labels, firing)).toEqual(want);
  });

  it('an alert matching both sides is not muted by itself nor by another two-sided alert', () => {
    // Alertmanager's rule: source and target matching the same alert do not make it inhibit itself.
    const both = inhibitor(`  - source_matchers: ['alertname="Down"']
    target_matchers: ['severity=~"warning|critical"']
    equal: [system]
`);
    const down = { alertname: 'Down', severity: 'critical', system: 'rms' };
    expect(both.mutes(down, [src('self', down)])).toEqual([]);
    expect(both.mutes(down, [src('other', { alertname: 'Down', severity: 'warning', system: 'rms' })])).toEqual([]);
    // A source that is not itself a target still inhibits the two-sided alert.
    expect(both.mutes(down, [src('info', { alertname: 'Down', severity: 'info', system: 'rms' })])).toEqual(['info']);
    // And the two-sided alert inhibits a pure target.
    expect(both.mutes({ alertname: 'Slow', severity: 'warning', system: 'rms' }, [src('self', down)])).toEqual(['self']);
  });

  it('reads the deprecated source_match/target_match_re forms', () => {
    const old = inhibitor(`  - source_match: { alertname: NodeDown }
    target_match_re: { alertname: 'Node.+' }
    equal: [instance]
`);
    expect(old.mutes({ alertname: 'NodeDiskFull', instance: 'h1' }, [src('n', { alertname: 'NodeDown', instance: 'h1' })])).toEqual(['n']);
    expect(old.mutes({ alertname: 'NodeDiskFull', instance: 'h2' }, [src('n', { alertname: 'NodeDown', instance: 'h1' })])).toEqual([]);
  });
});

import { describe, expect, it } from 'vitest';
import { parseNotificationConfig, type Route } from './config.ts';
import { findRoute, formatLabelSet, goQuote, groupKey, groupLabels, groupOf, matchRoutes, walkRoutes } from './route.ts';

// Alertmanager's dispatch/route_test.go tree (TestRouteMatch), receivers declared for validation.
const TREE = `
route:
  receiver: notify-def
  routes:
    - match: { owner: team-A }
      receiver: notify-A
      routes:
        - match: { env: testing }
          receiver: notify-testing
          group_by: ['...']
        - match: { env: production }
          receiver: notify-productionA
          group_wait: 1m
          continue: true
        - match_re: { env: 'produ.*', job: '.*' }
          receiver: notify-productionB
          group_wait: 30s
          group_interval: 5m
          repeat_interval: 1h
          group_by: [job]
    - match_re: { owner: 'team-(B|C)' }
      group_by: [foo, bar]
      group_wait: 2m
      receiver: notify-BC
    - match: { group_by: role }
      group_by: [role]
      routes:
        - match: { env: testing }
          receiver: notify-testing
          routes:
            - match: { wait: long }
              group_wait: 2m
receivers:
  - name: notify-def
  - name: notify-A
  - name: notify-testing
  - name: notify-productionA
  - name: notify-productionB
  - name: notify-BC
`;

const parsed = parseNotificationConfig(TREE);
if (!parsed.config) throw new Error(JSON.stringify(parsed.errors));
const root: Route = parsed.config.route;

const summary = (r: Route) => ({ receiver: r.receiver, groupBy: r.groupByAll ? ['...'] : r.groupBy, waitS: r.groupWaitMs / 1000, intervalS: r.groupIntervalMs / 1000, repeatS: r.repeatIntervalMs / 1000 });

describe('matchRoutes (Alertmanager TestRouteMatch)', () => {
  it.each([
    [{ owner: 'team-A' }, [{ receiver: 'notify-A', groupBy: [], waitS: 30, intervalS: 300, repeatS: 14400 }]],
    [{ owner: 'team-A', env: 'unset' }, [{ receiver: 'notify-A', groupBy: [], waitS: 30, intervalS: 300, repeatS: 14400 }]],
    [{ owner: 'team-C' }, [{ receiver: 'notify-BC', groupBy: ['bar', 'foo'], waitS: 120, intervalS: 300, repeatS: 14400 }]],
    [{ owner: 'team-A', env: 'testing' }, [{ receiver: 'notify-testing', groupBy: ['...'], waitS: 30, intervalS: 300, repeatS: 14400 }]],
    // `continue: true` on the first match lets the next sibling match too.
    [
      { owner: 'team-A', env: 'production' },
      [
        { receiver: 'notify-productionA', groupBy: [], waitS: 60, intervalS: 300, repeatS: 14400 },
        { receiver: 'notify-productionB', groupBy: ['job'], waitS: 30, intervalS: 300, repeatS: 3600 },
      ],
    ],
    [{ group_by: 'role' }, [{ receiver: 'notify-def', groupBy: ['role'], waitS: 30, intervalS: 300, repeatS: 14400 }]],
    [{ group_by: 'role', env: 'testing' }, [{ receiver: 'notify-testing', groupBy: ['role'], waitS: 30, intervalS: 300, repeatS: 14400 }]],
    [{ group_by: 'role', env: 'testing', wait: 'long' }, [{ receiver: 'notify-testing', groupBy: ['role'], waitS: 120, intervalS: 300, repeatS: 14400 }]],
    [{ alertname: 'Other' }, [{ receiver: 'notify-def', groupBy: [], waitS: 30, intervalS: 300, repeatS: 14400 }]],
  ])('%j', (labels, want) => {
    expect(matchRoutes(root, labels).map(summary)).toEqual(want);
  });

  it('stops at the first matching sibling without continue', () => {
    const p = parseNotificationConfig(`route:
  receiver: a
  routes:
    - { matchers: ['x="1"'], receiver: b }
    - { matchers: ['x=~".+"'], receiver: c }
    - { matchers: ['y="1"'], receiver: d, continue: true }
    - { matchers: ['y=~".+"'], receiver: e }
receivers: [{ name: a }, { name: b }, { name: c }, { name: d }, { name: e }]
`);
    const r = p.config!.route;
    expect(matchRoutes(r, { x: '1' }).map((m) => m.receiver)).toEqual(['b']);
    expect(matchRoutes(r, { x: '2' }).map((m) => m.receiver)).toEqual(['c']);
    expect(matchRoutes(r, { y: '1' }).map((m) => m.receiver)).toEqual(['d', 'e']);
    // The first match (b) has no continue: later siblings are not tried even though d would match.
    expect(matchRoutes(r, { x: '1', y: '1' }).map((m) => m.receiver)).toEqual(['b']);
  });
});

describe('group keys', () => {
  it('are Alertmanager group keys: route key, then the group labels', () => {
    const labels = { owner: 'team-A', env: 'production', alertname: 'Down', job: 'api' };
    const [a, b] = matchRoutes(root, labels);
    expect(groupKey(a!, labels)).toBe('{}/{owner="team-A"}/{env="production"}:{}');
    expect(groupKey(b!, labels)).toBe('{}/{owner="team-A"}/{env=~"produ.*",job=~".*"}:{job="api"}');
    const [all] = matchRoutes(root, { owner: 'team-A', env: 'testing', b: '2', a: '1' });
    expect(groupOf(all!, { owner: 'team-A', env: 'testing', b: '2', a: '1' })).toEqual({
      key: '{}/{owner="team-A"}/{env="testing"}:{a="1", b="2", env="testing", owner="team-A"}',
      labels: { a: '1', b: '2', env: 'testing', owner: 'team-A' },
    });
  });

  it('leave out group_by labels an alert lacks, and do not depend on label order', () => {
    const [bc] = matchRoutes(root, { owner: 'team-B', foo: 'x' });
    expect(groupLabels(bc!, { owner: 'team-B', foo: 'x' })).toEqual({ foo: 'x' });
    expect(groupKey(bc!, { foo: 'x', bar: 'y', owner: 'team-B' })).toBe(groupKey(bc!, { owner: 'team-B', bar: 'y', foo: 'x' }));
  });

  it('quote values as Go does and sort pairs as Go sorts the printed strings', () => {
    expect(goQuote('a"b\\c\nd\te\u0001é😀')).toBe('"a\\"b\\\\c\\nd\\te\\x01é😀"');
    // "a1=" sorts before "a=" because '1' < '='.
    expect(formatLabelSet({ a: 'x', a1: 'y' })).toBe('{a1="y", a="x"}');
  });

  it('route ids are unique and found again', () => {
    const ids = walkRoutes(root).map((r) => r.id);
    expect(new Set(ids).size).toBe(ids.length);
    for (const id of ids) expect(findRoute(root, id)!.id).toBe(id);
  });
});

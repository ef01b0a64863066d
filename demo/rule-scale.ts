/**
 * The default alert rules on a test's time scale: the same queries, conditions, baselines and recovery
 * thresholds, with windows of 30 s instead of minutes, `for` of at most 4 s and a 2 s evaluation, so that a
 * demo fault is noticed and its recovery confirmed within a test's minutes rather than an hour.
 */
import fs from 'node:fs';
import { isMap, isSeq, parseDocument } from 'yaml';

/** Rewrites the rule file `file` in place on the test time scale, leaving out the alerts named in `drop`. */
export function scaleRules(file: string, drop: readonly string[] = []): void {
  const doc = parseDocument(fs.readFileSync(file, 'utf8'));
  const groups = doc.get('groups');
  if (!isSeq(groups)) throw new Error(`${file} has no groups`);
  for (const group of groups.items) {
    if (!isMap(group)) continue;
    group.set('interval', '2s');
    const rules = group.get('rules');
    if (!isSeq(rules)) continue;
    rules.items = rules.items.filter((r) => !(isMap(r) && drop.includes(String(r.get('alert')))));
    for (const rule of rules.items) {
      if (!isMap(rule)) continue;
      rule.set('range', '30s');
      if (rule.has('for')) rule.set('for', '4s');
      if (rule.has('keep_firing_for')) rule.set('keep_firing_for', '0s');
      const metric = rule.get('metric');
      if (isMap(metric) && metric.has('horizon')) metric.set('horizon', '1h');
    }
  }
  fs.writeFileSync(file, String(doc));
}

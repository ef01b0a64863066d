/**
 * Inhibition (Alertmanager's inhibit/inhibit.go): an alert is muted while a firing alert matches an
 * inhibit rule's source matchers, the muted alert matches its target matchers, and both carry the same
 * values for the rule's `equal` labels (a label missing on both sides counts as equal, empty).
 */
import type { Labels } from '../types.ts';
import type { InhibitRule } from './config.ts';
import { matches } from './matchers.ts';

/** An alert that may inhibit others: its fingerprint and labels (the caller passes firing alerts only). */
export interface InhibitSource {
  fingerprint: string;
  labels: Labels;
}

/** Applies a configuration's inhibit rules. */
export class Inhibitor {
  constructor(private readonly rules: readonly InhibitRule[]) {}

  /**
   * The fingerprints of the firing alerts that inhibit an alert with `labels` (empty: not inhibited).
   * An alert that matches both sides of a rule is never inhibited by an alert that also matches both
   * sides — Alertmanager's rule that keeps, say, two `severity=critical` alerts from muting each other
   * (and an alert from muting itself).
   */
  mutes(labels: Labels, firing: readonly InhibitSource[]): string[] {
    const by = new Set<string>();
    for (const rule of this.rules) {
      if (!matches(rule.targetMatchers, labels)) continue;
      const twoSided = matches(rule.sourceMatchers, labels);
      for (const src of firing) {
        if (!matches(rule.sourceMatchers, src.labels)) continue;
        if (!rule.equal.every((n) => (src.labels[n] ?? '') === (labels[n] ?? ''))) continue;
        if (twoSided && matches(rule.targetMatchers, src.labels)) continue;
        by.add(src.fingerprint);
      }
    }
    return [...by].sort();
  }
}

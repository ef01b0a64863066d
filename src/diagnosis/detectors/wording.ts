/**
 * Wording shared by the infrastructure detectors' summaries.
 */

/** `ledger's`, `orders'`: a name's possessive, for summaries. */
export function possessive(name: string): string {
  return name.endsWith('s') ? `${name}'` : `${name}'s`;
}

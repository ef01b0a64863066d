/**
 * A Drain-style log template miner (He et al., "Drain: An Online Log Parsing Approach with Fixed Depth
 * Tree", ICWS 2017), used by the log-patterns detector to turn log lines into templates it can count.
 *
 * A message is first masked (UUIDs, IPs, hex ids, numbers → `<*>`), split on white space, then routed
 * down a fixed-depth tree: by token count, then by its first tokens (a token holding a variable or a
 * digit goes to the `<*>` branch, so ids in first position do not explode the tree). At the leaf, the
 * message joins the most similar cluster (share of positions whose tokens are equal) when that share
 * reaches the threshold, and positions that differ become `<*>`; otherwise it starts a new cluster.
 */

/** The variable marker in templates. */
export const WILDCARD = '<*>';

/** One template and how many messages it took. */
export interface LogCluster {
  /** Stable within one miner: 1, 2, … in creation order. */
  id: number;
  /** The template's tokens (`<*>` where messages differ). */
  tokens: string[];
  /** Messages added to this cluster. */
  count: number;
}

/** Tuning of a {@link Drain} miner. */
export interface DrainOptions {
  /** Share of equal tokens needed to join a cluster (0..1, default 0.5). */
  similarity?: number;
  /** First tokens used to route a message below its length (default 1: the second token is often a value, such as a name). */
  prefixDepth?: number;
  /** Children per tree node before new tokens go to the `<*>` branch (default 100). */
  maxChildren?: number;
  /** Clusters kept at most; past it, messages that match none are not counted (default 5000). */
  maxClusters?: number;
}

// Masks, most specific first: a UUID holds hex runs and numbers that the later masks would split.
const MASKS: readonly RegExp[] = [
  /\b[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}\b/g,
  /\b\d{1,3}(?:\.\d{1,3}){3}(?::\d+)?\b/g,
  /\b0x[0-9a-fA-F]+\b/g,
  // Long hex runs (trace ids, hashes) only when they hold a digit: words like "deadbeef" stay words.
  /\b(?=[0-9a-fA-F]*\d)[0-9a-fA-F]{8,}\b/g,
  /-?\d+(?:\.\d+)?/g,
];

/** Replaces the variable parts of a message that are obvious without context (ids, addresses, numbers) by `<*>`. */
export function maskMessage(text: string): string {
  let s = text;
  for (const re of MASKS) s = s.replace(re, WILDCARD);
  // Adjacent masks ("<*>.<*>" of a version, "<*>-<*>") say no more than one.
  return s.replace(/<\*>(?:[.:\-/]?<\*>)+/g, WILDCARD);
}

/** The tokens of a message after masking (white space separates tokens; at most 200 are kept). */
export function tokenize(text: string): string[] {
  return maskMessage(text).split(/\s+/).filter(Boolean).slice(0, 200);
}

/** The template of a cluster as text. */
export function templateText(c: Pick<LogCluster, 'tokens'>): string {
  return c.tokens.join(' ');
}

interface Node {
  children: Map<string, Node>;
  clusters: LogCluster[];
}

const node = (): Node => ({ children: new Map(), clusters: [] });
const hasVariable = (t: string): boolean => t.includes(WILDCARD) || /\d/.test(t);

/** An online template miner: add messages one by one, read the clusters at any time. */
export class Drain {
  private readonly root = node();
  private readonly all: LogCluster[] = [];
  private readonly similarity: number;
  private readonly prefixDepth: number;
  private readonly maxChildren: number;
  private readonly maxClusters: number;

  constructor(opts: DrainOptions = {}) {
    this.similarity = opts.similarity ?? 0.5;
    this.prefixDepth = opts.prefixDepth ?? 1;
    this.maxChildren = opts.maxChildren ?? 100;
    this.maxClusters = opts.maxClusters ?? 5000;
  }

  /** Adds one message; returns its cluster (undefined only for an empty message or past `maxClusters`). */
  add(message: string): LogCluster | undefined {
    const tokens = tokenize(message);
    if (!tokens.length) return undefined;
    const leaf = this.leafFor(tokens, true) as Node;
    const best = this.bestMatch(leaf, tokens);
    if (best) {
      best.tokens = best.tokens.map((t, i) => (t === tokens[i] ? t : WILDCARD));
      best.count += 1;
      return best;
    }
    if (this.all.length >= this.maxClusters) return undefined;
    const created: LogCluster = { id: this.all.length + 1, tokens, count: 1 };
    leaf.clusters.push(created);
    this.all.push(created);
    return created;
  }

  /** The cluster a message would join, without adding it. */
  match(message: string): LogCluster | undefined {
    const tokens = tokenize(message);
    if (!tokens.length) return undefined;
    const leaf = this.leafFor(tokens, false);
    return leaf ? this.bestMatch(leaf, tokens) : undefined;
  }

  /** Every cluster, in creation order. */
  clusters(): readonly LogCluster[] {
    return this.all;
  }

  /** Walks (and when `create`, builds) the path of length and first tokens. */
  private leafFor(tokens: string[], create: boolean): Node | undefined {
    let at = this.child(this.root, String(tokens.length), create, true);
    for (let i = 0; at && i < Math.min(this.prefixDepth, tokens.length); i++) {
      const t = tokens[i] as string;
      at = this.child(at, hasVariable(t) ? WILDCARD : t, create, false);
    }
    return at;
  }

  private child(parent: Node, key: string, create: boolean, unbounded: boolean): Node | undefined {
    const found = parent.children.get(key);
    if (found) return found;
    // A full node sends unseen tokens to its `<*>` branch, as Drain does to bound the tree.
    const routed = !unbounded && parent.children.size >= this.maxChildren ? WILDCARD : key;
    if (!create) return parent.children.get(routed) ?? parent.children.get(WILDCARD);
    let n = parent.children.get(routed);
    if (!n) parent.children.set(routed, (n = node()));
    return n;
  }

  /** The most similar cluster of a leaf at or above the threshold (ties: the one with fewer wildcards). */
  private bestMatch(leaf: Node, tokens: string[]): LogCluster | undefined {
    let best: LogCluster | undefined;
    let bestSim = -1;
    let bestWild = Infinity;
    for (const c of leaf.clusters) {
      let same = 0;
      let wild = 0;
      for (let i = 0; i < tokens.length; i++) {
        const t = c.tokens[i];
        if (t === tokens[i]) same++;
        else if (t === WILDCARD) wild++;
      }
      // A wildcard the message fills with a value is not an equal token (as in Drain); a template that is
      // all wildcards must not swallow every message of its length.
      const sim = wild === tokens.length ? 0 : same / tokens.length;
      if (sim > bestSim || (sim === bestSim && wild < bestWild)) {
        best = c;
        bestSim = sim;
        bestWild = wild;
      }
    }
    return best && bestSim >= this.similarity ? best : undefined;
  }
}

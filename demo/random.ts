/** Deterministic pseudo-random numbers so seeds and test runs are reproducible. */

/** mulberry32: tiny, fast, good enough for demo data. */
export function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Picks one element of `items` using `r`. */
export function pick<T>(r: () => number, items: readonly T[]): T {
  return items[Math.floor(r() * items.length)] as T;
}

/** Integer in [min, max]. */
export function between(r: () => number, min: number, max: number): number {
  return min + Math.floor(r() * (max - min + 1));
}

export const FIRST_NAMES = [
  'Ada', 'Amara', 'Ben', 'Carla', 'Chen', 'Dario', 'Elena', 'Farid', 'Grace', 'Hana', 'Ivan', 'Jonas', 'Keiko', 'Lars',
  'Maya', 'Nadia', 'Omar', 'Priya', 'Quinn', 'Rosa', 'Sami', 'Tara', 'Umar', 'Vera', 'Wen', 'Ximena', 'Yusuf', 'Zoe',
] as const;

export const LAST_NAMES = [
  'Abe', 'Baker', 'Costa', 'Dubois', 'Eriksen', 'Fischer', 'Garcia', 'Haddad', 'Ito', 'Jensen', 'Kowalski', 'Lopez',
  'Moreau', 'Nakamura', 'Okafor', 'Patel', 'Quispe', 'Rossi', 'Silva', 'Tanaka', 'Umeh', 'Varga', 'Weber', 'Young',
] as const;

/** Sleeps `ms` milliseconds. */
export const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/**
 * The LMS's people, generated deterministically so the auth-service (credentials), the LMS (profiles) and the traffic
 * generator (who logs in with what) agree without sharing a database.
 */
import { FIRST_NAMES, LAST_NAMES } from '../random.ts';

/** Directory group a person belongs to in the university's identity provider. */
export type Group = 'students' | 'faculty' | 'it-admins';

/** One person of the identity provider. */
export interface Person {
  id: number;
  email: string;
  name: string;
  group: Group;
  password: string;
}

export const PEOPLE_COUNT = 2000;

/** Person `id` (1-based): ids 1-40 are admins, 41-240 faculty, the rest students. */
export function person(id: number): Person {
  const first = FIRST_NAMES[id % FIRST_NAMES.length] as string;
  const last = LAST_NAMES[Math.floor(id / FIRST_NAMES.length) % LAST_NAMES.length] as string;
  const group: Group = id <= 40 ? 'it-admins' : id <= 240 ? 'faculty' : 'students';
  return { id, email: `${first}.${last}.${id}@uni.example`.toLowerCase(), name: `${first} ${last}`, group, password: `pw-${id}-${(id * 7919) % 9973}` };
}

/** All people. */
export function people(): Person[] {
  return Array.from({ length: PEOPLE_COUNT }, (_, i) => person(i + 1));
}

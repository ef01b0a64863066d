/**
 * Compact HMAC-signed tokens (JWT layout, HS256) shared by auth-service (issues) and lms-api (verifies locally),
 * so ordinary LMS requests need no call to the identity provider.
 */
import { createHmac, timingSafeEqual } from 'node:crypto';

/** Claims carried by a token. */
export interface Claims {
  sub: number;
  email: string;
  groups: string[];
  exp: number;
}

const secret = () => process.env.DEMO_AUTH_SECRET ?? 'vigil-demo-secret';
const b64 = (s: string) => Buffer.from(s).toString('base64url');
const sign = (data: string) => createHmac('sha256', secret()).update(data).digest('base64url');

/** Issues a token valid for an hour. */
export function signToken(claims: Omit<Claims, 'exp'>): string {
  const head = b64(JSON.stringify({ alg: 'HS256', typ: 'JWT' }));
  const body = b64(JSON.stringify({ ...claims, exp: Math.floor(Date.now() / 1000) + 3600 }));
  return `${head}.${body}.${sign(`${head}.${body}`)}`;
}

/** Returns the claims of a valid, unexpired token, else null. */
export function verifyToken(token: string): Claims | null {
  const [head, body, sig] = token.split('.');
  if (!head || !body || !sig) return null;
  const expected = Buffer.from(sign(`${head}.${body}`));
  const given = Buffer.from(sig);
  if (expected.length !== given.length || !timingSafeEqual(expected, given)) return null;
  try {
    const claims = JSON.parse(Buffer.from(body, 'base64url').toString('utf8')) as Claims;
    return claims.exp * 1000 > Date.now() ? claims : null;
  } catch {
    return null;
  }
}

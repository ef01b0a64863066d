/**
 * Security headers on every response. The Content-Security-Policy allows only Vigil's own scripts,
 * styles and connections: no inline script, no eval, no third-party origins, no framing.
 */
import type { FastifyReply } from 'fastify';

/** The UI's Content-Security-Policy. */
export const CONTENT_SECURITY_POLICY = [
  "default-src 'self'",
  "script-src 'self'",
  // uPlot and React set element styles at run time.
  "style-src 'self' 'unsafe-inline'",
  "img-src 'self' data:",
  "connect-src 'self'",
  "font-src 'self'",
  "object-src 'none'",
  "base-uri 'none'",
  "form-action 'self'",
  "frame-ancestors 'none'",
].join('; ');

/** Sets the headers (leaving any a route set itself). */
export function setSecurityHeaders(reply: FastifyReply): void {
  const set = (name: string, value: string) => {
    if (!reply.hasHeader(name)) reply.header(name, value);
  };
  set('content-security-policy', CONTENT_SECURITY_POLICY);
  set('x-content-type-options', 'nosniff');
  set('x-frame-options', 'DENY');
  set('referrer-policy', 'no-referrer');
  set('cross-origin-opener-policy', 'same-origin');
  set('cross-origin-resource-policy', 'same-origin');
  set('permissions-policy', 'camera=(), microphone=(), geolocation=(), payment=()');
  if (reply.request.protocol === 'https') set('strict-transport-security', 'max-age=31536000');
  // API answers are per user: never cache them in shared caches.
  if (reply.request.url.startsWith('/api/')) set('cache-control', 'no-store');
}

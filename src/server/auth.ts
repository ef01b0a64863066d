/**
 * Access rules of API routes. Every route states its rule when it is registered; tokens come as
 * `Authorization: Bearer <token>` (sessions for the UI arrive with users and roles).
 */
import type { FastifyReply, FastifyRequest, preHandlerAsyncHookHandler } from 'fastify';
import { scopeAllows, type TokenScope, type TokenStore } from '../store/state/tokens.ts';

/** A preHandler that lets through requests whose token has `scope` (admin has all). */
export function requireScope(tokens: TokenStore, scope: TokenScope): preHandlerAsyncHookHandler {
  return async (req: FastifyRequest, reply: FastifyReply) => {
    const header = req.headers.authorization;
    if (!header?.toLowerCase().startsWith('bearer ')) {
      return reply.code(401).send({ error: 'missing token: send "Authorization: Bearer <token>"' });
    }
    const token = await tokens.verify(header.slice(7).trim());
    if (!token) return reply.code(401).send({ error: 'invalid or revoked token' });
    if (!scopeAllows(token.scope, scope)) return reply.code(403).send({ error: `this route needs a token with scope ${scope}` });
  };
}

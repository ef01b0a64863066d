/**
 * Resolves who is calling the API: an `Authorization: Bearer <token>` API token.
 */
import type { FastifyRequest } from 'fastify';
import type { TokenStore } from '../store/state/tokens.ts';
import type { Authenticate, Principal } from './access.ts';

/** An {@link Authenticate} over API tokens. */
export function authenticator(tokens: TokenStore): Authenticate {
  return async (req: FastifyRequest): Promise<Principal | undefined> => {
    const header = req.headers.authorization;
    if (header?.toLowerCase().startsWith('bearer ')) {
      const token = await tokens.verify(header.slice(7).trim());
      return token ? { kind: 'token', name: token.name, grants: token.scope } : undefined;
    }
    return undefined;
  };
}

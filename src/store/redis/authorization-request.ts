/**
 * @module store/redis/authorization-request
 * The checked MCP authorization request (security/oauth/authorization-server) as it is read back
 * from a Redis record (pending upstream sign-ins, pending consents): a strict schema, bounded like
 * the request it came from, and the mapping back to the type (absent optional parts as undefined).
 */

import { z } from 'zod';
import type { AuthorizationRequest } from '../../security/oauth/authorization-server.js';

const text = (max: number) => z.string().max(max);

export const authorizationRequestSchema = z.strictObject({
  client: z.strictObject({
    clientId: text(2000),
    clientName: text(200).optional(),
    redirectUris: z.array(text(2000)).max(10),
    createdAt: z.number(),
    expiresAt: z.number(),
  }),
  redirectUri: text(2000),
  state: text(2000).optional(),
  codeChallenge: text(128),
  resource: text(2000),
  scopes: z.array(text(256)).max(256).optional(),
});

/** The request a parsed record holds, with absent optional parts as undefined. */
export function authorizationRequestOf(parsed: z.infer<typeof authorizationRequestSchema>): AuthorizationRequest {
  return { ...parsed, client: { ...parsed.client, clientName: parsed.client.clientName }, state: parsed.state, scopes: parsed.scopes };
}

/**
 * @module server/request-state
 * This server's multi round-trip parts: the request-state codec, sealed with the shared secret
 * when one is configured (replicas holding it accept each other's state, and state sealed with
 * the previous secret stays valid during a rotation) or else with 32 random bytes made at start
 * (state is then valid on this process only, until it restarts: said once in the log); the
 * factory wrapper that hands the codec to a library server's factory; and the per-session client
 * capabilities the built-in tools consult.
 */

import { randomBytes } from 'node:crypto';
import type { Logger } from 'pino';
import type { Config } from '../config/load.js';
import { RequestStateCodec } from '../mcp/request-state.js';
import { createRequestStateTools, type RequestStateTools } from '../mcp/request-state-hook.js';
import type { ServerFactory } from '../mcp/sessions.js';
import { SessionCapabilities } from '../mcp/session-capabilities.js';
import { SharedSecret } from '../security/shared-secret.js';
import type { WardenServerFactory } from './types.js';

export function createRequestState(config: Readonly<Config>, logger: Logger, now: () => number): RequestStateTools {
  const { secret, previousSecret, ttl } = config.requestState;
  let shared: SharedSecret;
  if (secret === undefined) {
    shared = new SharedSecret({ current: randomBytes(32).toString('base64url') });
    logger.info(
      'requestState of multi round-trip tools is valid on this process only, until it restarts: set MCP_SHARED_SECRET (the same on every replica) to share it',
    );
  } else {
    shared = new SharedSecret({ current: secret, previous: previousSecret });
  }
  const codec = new RequestStateCodec({ secret: shared, ttlSeconds: ttl, now });
  return createRequestStateTools(codec, {
    // Debug only: a client can send any number of bad states; the reason never reaches it.
    onRefused: (reason, method) => logger.debug({ reason, mcpMethod: method }, 'requestState refused'),
  });
}

/** The library factory as the transport calls it: each call also gets this server's codec. */
export function withRequestState(factory: WardenServerFactory, requestState: RequestStateTools): ServerFactory {
  return (context) => factory({ ...context, requestState });
}

/** One book for every built-in engine of this replica: a session lives on at most one of them. */
export function createSessionCapabilities(config: Readonly<Config>): SessionCapabilities {
  return new SessionCapabilities({ max: config.sessions.max });
}

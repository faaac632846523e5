/**
 * @module http/hooks/readiness
 * Holds `/mcp` (and a gateway's `/mcp/<upstream>`) and `/api/*` at 503 (with Retry-After) until the replica is ready (see
 * shared-state/readiness): a replica that has not yet applied the revocations and bans stored in
 * Redis must not authenticate anyone. Probes, the home page and metrics are not held.
 */

import type { FastifyReply, FastifyRequest, HookHandlerDoneFunction, onRequestHookHandler } from 'fastify';
import { replyError } from '../error-reply.js';

export function createReadinessGate(ready: () => boolean): onRequestHookHandler {
  return function readinessGate(request: FastifyRequest, reply: FastifyReply, done: HookHandlerDoneFunction): void {
    // ready() first: once synced (always, without Redis) no request pays for routeOptions,
    // which Fastify builds anew on every read.
    if (ready()) {
      done();
      return;
    }
    const route = request.routeOptions.url ?? '';
    if (!(route === '/mcp' || route.startsWith('/mcp/') || route.startsWith('/api/'))) {
      done();
      return;
    }
    replyError(request, reply, 'WARDEN_ERR_SHARED_STATE_UNAVAILABLE', 'starting', { 'retry-after': '1' });
  };
}

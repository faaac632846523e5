/**
 * @module http/hooks/rate-limit
 * Per-client rate limit, applied before authentication so key guessing is limited too.
 * Headers: RateLimit-Limit / -Remaining / -Reset and RateLimit-Policy
 * (draft-ietf-httpapi-ratelimit-headers), Retry-After on 429 (RFC 9110 §10.2.3). Both carry
 * the store's exact wait rounded up to whole seconds, which never exceeds the window.
 */

import type { FastifyReply, FastifyRequest, HookHandlerDoneFunction, onRequestHookHandler } from 'fastify';
import type { SecurityEvents } from '../../observability/security-events.js';
import { clientKey } from '../../security/client-ip.js';
import type { RateLimitDecision, RateLimitStore } from '../../store/types.js';
import { replyError } from '../error-reply.js';
import { settle } from './settle.js';

export interface RateLimitHookOptions {
  readonly store: RateLimitStore;
  readonly limit: number;
  readonly events: SecurityEvents;
}

export function createRateLimitHook(options: RateLimitHookOptions): onRequestHookHandler {
  const { store, limit, events } = options;
  const policy = `${limit};w=${Math.round(store.windowMs / 1000)}`;
  const limitText = String(limit);

  function apply(request: FastifyRequest, reply: FastifyReply, decision: RateLimitDecision, done: HookHandlerDoneFunction): void {
    const resetSeconds = Math.max(1, Math.ceil(decision.resetMs / 1000));
    reply.header('ratelimit-limit', limitText);
    reply.header('ratelimit-remaining', String(decision.remaining));
    reply.header('ratelimit-reset', String(resetSeconds));
    reply.header('ratelimit-policy', policy);
    if (decision.allowed) {
      done();
      return;
    }
    events.rateLimited(request.ip, 'ip');
    replyError(request, reply, 'WARDEN_ERR_RATE_LIMITED', 'ip', { 'retry-after': String(resetSeconds) });
  }

  return function rateLimit(request: FastifyRequest, reply: FastifyReply, done: HookHandlerDoneFunction): void {
    if (request.routeOptions.config.probe === true) {
      done();
      return;
    }
    settle(store.consume(clientKey(request.ip), limit), request, reply, done, apply);
  };
}

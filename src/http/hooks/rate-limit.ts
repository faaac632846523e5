/**
 * @module http/hooks/rate-limit
 * Per-client rate limit, applied before authentication so key guessing is limited too.
 * Headers: RateLimit-Limit / -Remaining / -Reset and RateLimit-Policy
 * (draft-ietf-httpapi-ratelimit-headers), Retry-After on 429 (RFC 9110 §10.2.3).
 */

import type { FastifyReply, FastifyRequest, HookHandlerDoneFunction } from 'fastify';
import type { SecurityEvents } from '../../observability/security-events.js';
import { clientKey } from '../../security/client-ip.js';
import type { RateLimitDecision, RateLimitStore } from '../../store/types.js';
import { replyError } from '../wire.js';

export interface RateLimitHookOptions {
  readonly store: RateLimitStore;
  readonly limit: number;
  readonly events: SecurityEvents;
}

export function createRateLimitHook(options: RateLimitHookOptions) {
  const { store, limit, events } = options;
  const policy = `${limit};w=${Math.round(store.windowMs / 1000)}`;
  const limitText = String(limit);
  const windowSeconds = Math.ceil(store.windowMs / 1000);

  function apply(request: FastifyRequest, reply: FastifyReply, decision: RateLimitDecision, done: HookHandlerDoneFunction): void {
    const resetSeconds = Math.max(1, Math.ceil(decision.resetMs / 1000));
    reply.header('ratelimit-limit', limitText);
    reply.header('ratelimit-remaining', String(decision.remaining));
    // The conservative count can hold a request up to one bucket past the window; the header
    // reports at most the window, Retry-After the full wait.
    reply.header('ratelimit-reset', String(Math.min(resetSeconds, windowSeconds)));
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
    const decision = store.consume(clientKey(request.ip), limit);
    if (decision instanceof Promise) {
      decision.then(
        (value) => apply(request, reply, value, done),
        (error: unknown) => done(error as Error),
      );
      return;
    }
    apply(request, reply, decision, done);
  };
}

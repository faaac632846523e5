/**
 * @module http/hooks/auth
 * Bearer authentication for protected routes (RFC 6750): API keys and, when configured, OAuth
 * JWTs. A session id is not a credential: every protected request carries the token. Missing
 * or refused credentials get 401 with the `WWW-Authenticate` challenge; each failure counts
 * toward the brute-force guard. Tokens in the query string are never looked at.
 */

import type { FastifyReply, FastifyRequest, HookHandlerDoneFunction, onRequestHookHandler } from 'fastify';
import type { Authenticator, AuthVerdict } from '../../security/authenticator.js';
import type { BanList } from '../../security/ban-list.js';
import { clientKey } from '../../security/client-ip.js';
import type { SecurityEvents } from '../../observability/security-events.js';
import type { Challenges } from '../challenge.js';
import { replyError } from '../error-reply.js';
import { settle } from './settle.js';

export interface AuthHookOptions {
  readonly authenticator: Authenticator;
  readonly challenges: Challenges;
  readonly bans: BanList;
  readonly events: SecurityEvents;
}

/**
 * Counts an authentication failure toward the brute-force guard, and reports a resulting ban.
 * With a shared (Redis) failure store the count is a Promise that settles within the Redis
 * timeout (never rejects): callers answer once it has, so a ban this failure decides is in
 * force before the client can send its next request. The memory store answers at once.
 */
export function countTowardBan(bans: BanList, events: SecurityEvents, ip: string): void | Promise<void> {
  const client = clientKey(ip);
  const ban = bans.recordFailure(client);
  if (ban instanceof Promise) {
    return ban.then((value) => {
      if (value !== undefined) events.banned(client, value.until);
    });
  }
  if (ban !== undefined) events.banned(client, ban.until);
}

/** Runs `answer` once the failure is counted: at once for the memory store, after Redis for the shared one. */
export function afterCounting(counted: void | Promise<void>, answer: () => void): void {
  if (counted instanceof Promise) void counted.then(answer, answer);
  else answer();
}

export function createAuthHook(options: AuthHookOptions): onRequestHookHandler {
  const { authenticator, challenges, bans, events } = options;

  function conclude(request: FastifyRequest, reply: FastifyReply, verdict: AuthVerdict, done: HookHandlerDoneFunction): void {
    const ip = request.ip;
    if (verdict.ok) {
      request.principal = verdict.principal;
      request.authOutcome = 'ok';
      // MCP traffic records a success per session (session_created); API routes per request.
      if (request.routeOptions.config.surface !== 'mcp') events.authSuccess(ip, verdict.principal, request.routeOptions.url ?? '');
      done();
      return;
    }
    request.authOutcome = verdict.missing ? 'missing' : 'invalid';
    events.authFailure(ip, verdict.reason, request.routeOptions.url ?? '');
    if (verdict.unavailable === true) {
      // The authorization server's keys are unreachable: 503, so clients keep their (maybe
      // valid) tokens, and no ban, since nobody guessed anything.
      replyError(request, reply, 'WARDEN_ERR_AUTH_UNAVAILABLE', verdict.reason, { 'retry-after': '5' });
      return;
    }
    afterCounting(countTowardBan(bans, events, ip), () => refuse(request, reply, verdict));
  }

  function refuse(request: FastifyRequest, reply: FastifyReply, verdict: AuthVerdict & { ok: false }): void {
    if (verdict.missing) replyError(request, reply, 'WARDEN_ERR_AUTH_REQUIRED', verdict.reason, challenges.missing);
    else replyError(request, reply, 'WARDEN_ERR_AUTH_INVALID', verdict.reason, challenges.invalid);
  }

  return function authenticate(request: FastifyRequest, reply: FastifyReply, done: HookHandlerDoneFunction): void {
    settle(authenticator.authenticate(request.headers.authorization), request, reply, done, conclude);
  };
}

/**
 * @module http/hooks/operator
 * Operator data (`/api/status`, `/metrics`) needs the operator role: runs after authentication
 * and the credential's limits, and answers any other credential 403 with the RFC 6750 §3.1
 * `insufficient_scope` challenge (naming the operator scope in OAuth mode).
 */

import type { FastifyReply, FastifyRequest, HookHandlerDoneFunction, onRequestHookHandler } from 'fastify';
import type { SecurityEvents } from '../../observability/security-events.js';
import type { Challenges } from '../challenge.js';
import { replyError } from '../error-reply.js';

export interface OperatorGuardOptions {
  readonly challenges: Challenges;
  readonly events: SecurityEvents;
}

/**
 * The guard that admits operator credentials only.
 *
 * @example
 * app.get('/api/status', { onRequest: [authenticate, createOperatorGuard({ challenges, events })] }, handler);
 */
export function createOperatorGuard(options: OperatorGuardOptions): onRequestHookHandler {
  const { challenges, events } = options;
  return function requireOperator(request: FastifyRequest, reply: FastifyReply, done: HookHandlerDoneFunction): void {
    const principal = request.principal;
    if (principal?.operator === true) {
      done();
      return;
    }
    if (principal !== null) events.scopeDenied(request.ip, principal, `operator:${request.routeOptions.url ?? ''}`);
    replyError(request, reply, 'WARDEN_ERR_INSUFFICIENT_SCOPE', 'operator_scope', challenges.operator);
  };
}

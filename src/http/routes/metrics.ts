/**
 * @module http/routes/metrics
 * `GET /metrics`: Prometheus text exposition. Protected by an operator credential, or, when
 * `--metrics-token` is set, by that token alone (what a scrape config holds), compared in
 * constant time over SHA-256 digests.
 */

import type { FastifyInstance, FastifyReply, FastifyRequest, HookHandlerDoneFunction, onRequestHookHandler } from 'fastify';
import type { Metrics } from '../../observability/metrics.js';
import type { SecurityEvents } from '../../observability/security-events.js';
import type { BanList } from '../../security/ban-list.js';
import { readBearer } from '../../security/bearer.js';
import { sameBytes, secretDigest } from '../../security/constant-time.js';
import type { Challenges } from '../challenge.js';
import { afterCounting, countTowardBan } from '../hooks/auth.js';
import { replyError } from '../error-reply.js';

export interface MetricsRouteOptions {
  readonly metrics: Metrics;
  /** Guards for operator API-key/JWT access, used when no metrics token is configured. */
  readonly guards: onRequestHookHandler[];
  readonly token?: string | undefined;
  readonly challenges: Challenges;
  readonly events: SecurityEvents;
  /** Wrong metrics tokens count toward the brute-force guard like wrong keys. */
  readonly bans: BanList;
}

export function registerMetricsRoute(app: FastifyInstance, options: MetricsRouteOptions): void {
  const { metrics, challenges, events } = options;
  let guards = options.guards;
  if (options.token !== undefined) {
    const expected = secretDigest(options.token);
    guards = [
      function metricsToken(request: FastifyRequest, reply: FastifyReply, done: HookHandlerDoneFunction): void {
        const credential = readBearer(request.headers.authorization);
        if (credential.kind === 'token' && sameBytes(secretDigest(credential.token), expected)) {
          request.authOutcome = 'ok';
          done();
          return;
        }
        request.authOutcome = credential.kind === 'missing' ? 'missing' : 'invalid';
        events.authFailure(request.ip, credential.kind === 'missing' ? 'no_credentials' : 'bad_metrics_token', '/metrics');
        afterCounting(countTowardBan(options.bans, events, request.ip), () => {
          if (credential.kind === 'missing') replyError(request, reply, 'WARDEN_ERR_AUTH_REQUIRED', 'no_credentials', challenges.missing);
          else replyError(request, reply, 'WARDEN_ERR_AUTH_INVALID', 'bad_metrics_token', challenges.invalid);
        });
      },
    ];
  }
  app.get('/metrics', { onRequest: guards }, async (_request, reply) => {
    const { contentType, body } = await metrics.render();
    reply.type(contentType).send(body);
  });
}

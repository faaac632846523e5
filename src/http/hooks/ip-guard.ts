/**
 * @module http/hooks/ip-guard
 * The first check on every request: global deny/allow CIDR rules and temporary bans from the
 * brute-force guard, answered with 403 before any other work. The liveness probe is exempt,
 * so an allow list cannot make an orchestrator restart a healthy server.
 */

import type { FastifyReply, FastifyRequest, HookHandlerDoneFunction, onRequestHookHandler } from 'fastify';
import type { BanList } from '../../security/ban-list.js';
import { clientKey } from '../../security/client-ip.js';
import type { IpVerdict } from '../../security/ip-rules.js';
import type { SecurityEvents } from '../../observability/security-events.js';
import { replyError } from '../error-reply.js';

export interface IpGuardOptions {
  readonly rules: ((address: string) => IpVerdict) | undefined;
  readonly bans: BanList;
  readonly events: SecurityEvents;
}

export function createIpGuard(options: IpGuardOptions): onRequestHookHandler {
  const { rules, bans, events } = options;
  return function ipGuard(request: FastifyRequest, reply: FastifyReply, done: HookHandlerDoneFunction): void {
    if (request.routeOptions.config.probe === true) {
      done();
      return;
    }
    const ip = request.ip;
    if (rules !== undefined) {
      const verdict = rules(ip);
      if (verdict !== 'allowed') {
        events.denied(ip, 'ip_rule');
        replyError(request, reply, 'WARDEN_ERR_IP_FORBIDDEN', verdict);
        return;
      }
    }
    if (bans.enabled && bans.active) {
      const until = bans.bannedUntil(clientKey(ip));
      if (until !== undefined) {
        events.denied(ip, 'banned');
        replyError(request, reply, 'WARDEN_ERR_IP_BANNED', 'banned', { 'retry-after': String(bans.secondsLeft(until)) });
        return;
      }
    }
    done();
  };
}

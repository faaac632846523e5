/**
 * @module http/hooks/host-origin
 * DNS-rebinding protection on every route: a `Host` that this server does not answer to, or
 * an `Origin` that is neither allowed nor our own, gets 403 (MCP Streamable HTTP §security
 * warning: servers MUST validate the Origin header).
 */

import type { FastifyReply, FastifyRequest, HookHandlerDoneFunction } from 'fastify';
import { createHostGuard, createOriginGuard } from '../../security/hosts.js';
import type { SecurityEvents } from '../../observability/security-events.js';
import { replyError } from '../wire.js';

export interface HostOriginOptions {
  readonly bindHost: string;
  readonly allowedHosts: readonly string[];
  readonly allowedOrigins: readonly string[];
  readonly publicUrl: string | undefined;
  readonly events: SecurityEvents;
}

export function createHostOriginGuard(options: HostOriginOptions) {
  const hostAllowed = createHostGuard({ bindHost: options.bindHost, allowedHosts: options.allowedHosts });
  const originAllowed = createOriginGuard({ allowedOrigins: options.allowedOrigins, publicUrl: options.publicUrl });
  return function hostOriginGuard(request: FastifyRequest, reply: FastifyReply, done: HookHandlerDoneFunction): void {
    const host = request.headers.host;
    if (!hostAllowed(host) && request.routeOptions.config.probe !== true) {
      options.events.denied(request.ip, 'host');
      replyError(request, reply, 'WARDEN_ERR_HOST_FORBIDDEN', 'host');
      return;
    }
    if (!originAllowed(request.headers.origin, host)) {
      options.events.denied(request.ip, 'origin');
      replyError(request, reply, 'WARDEN_ERR_ORIGIN_FORBIDDEN', 'origin');
      return;
    }
    done();
  };
}

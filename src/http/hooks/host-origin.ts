/**
 * @module http/hooks/host-origin
 * DNS-rebinding protection on every route: a `Host` that this server does not answer to, or
 * an `Origin` that is neither allowed nor our own, gets 403 (MCP Streamable HTTP §security
 * warning: servers MUST validate the Origin header). The public OAuth endpoints accept any
 * `Origin` (they hold no credential; http/hooks/cors-policy), never any `Host`.
 *
 * What the check reads must be what the client sent, so before it:
 * - a request whose header count reaches Node's cap gets 431: beyond the cap Node drops
 *   headers silently, and a dropped `Origin` would pass;
 * - two `Host` headers get 400 (RFC 9112 §3.2: a server MUST respond 400 to a request with
 *   more than one Host field line);
 * - an absolute-form target (`GET http://evil.example/api/tools`) is checked by its authority,
 *   which replaces `Host` (RFC 9112 §3.2.2); a target that is neither origin-form nor an http(s)
 *   absolute URL gets 400.
 */

import type { FastifyReply, FastifyRequest, HookHandlerDoneFunction, onRequestHookHandler } from 'fastify';
import { createHostGuard, createOriginGuard } from '../../security/hosts.js';
import type { SecurityEvents } from '../../observability/security-events.js';
import { replyError } from '../error-reply.js';

/**
 * Headers per request that Node's parser keeps (its default, set explicitly on our server so
 * this check and the parser agree). A request with this many is refused, never truncated.
 */
export const MAX_HEADER_COUNT = 1000;

export interface HostOriginOptions {
  readonly bindHost: string;
  readonly allowedHosts: readonly string[];
  readonly allowedOrigins: readonly string[];
  readonly publicUrl: string | undefined;
  /**
   * Requests any origin may make (the public, credential-free OAuth endpoints, see
   * http/hooks/cors-policy): their `Origin` is not checked; their `Host` still is.
   */
  readonly anyOrigin?: (request: FastifyRequest) => boolean;
  readonly events: SecurityEvents;
}

/** Number of `Host` field lines among the raw headers. */
function hostLines(rawHeaders: readonly string[]): number {
  let count = 0;
  for (let index = 0; index < rawHeaders.length; index += 2) {
    const name = rawHeaders[index] as string;
    if (name.length === 4 && name.toLowerCase() === 'host') count++;
  }
  return count;
}

/**
 * RFC 9112 §3.2 / RFC 3986 §3.2.2: `Host` is `host [":" port]` (an IP literal in brackets, or a
 * reg-name / IPv4 address), never userinfo or anything after the port. A value outside that
 * grammar gets 400: the host check must not read a loopback name out of `[::1]evil.example`.
 */
const HOST_FIELD = /^(?:\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9\-._~!$&'()*+,;=%]*)(?::[0-9]*)?$/;

/** The authority of an absolute-form target; null when the target is not http(s). */
function targetAuthority(target: string): string | null {
  try {
    const url = new URL(target);
    return url.protocol === 'http:' || url.protocol === 'https:' ? url.host : null;
  } catch {
    return null;
  }
}

export function createHostOriginGuard(options: HostOriginOptions): onRequestHookHandler {
  const hostAllowed = createHostGuard({ bindHost: options.bindHost, allowedHosts: options.allowedHosts });
  const originAllowed = createOriginGuard({ allowedOrigins: options.allowedOrigins, publicUrl: options.publicUrl });
  return function hostOriginGuard(request: FastifyRequest, reply: FastifyReply, done: HookHandlerDoneFunction): void {
    const raw = request.raw;
    if (raw.rawHeaders.length >= MAX_HEADER_COUNT * 2) {
      replyError(request, reply, 'WARDEN_ERR_HEADERS_TOO_LARGE', 'header_count');
      return;
    }
    if (hostLines(raw.rawHeaders) > 1) {
      replyError(request, reply, 'WARDEN_ERR_INVALID_REQUEST', 'duplicate_host');
      return;
    }
    let host = request.headers.host;
    if (host !== undefined && !HOST_FIELD.test(host)) {
      replyError(request, reply, 'WARDEN_ERR_INVALID_REQUEST', 'invalid_host');
      return;
    }
    const target = raw.url ?? '/';
    if (!target.startsWith('/')) {
      const authority = targetAuthority(target);
      if (authority === null) {
        replyError(request, reply, 'WARDEN_ERR_INVALID_REQUEST', 'request_target');
        return;
      }
      host = authority;
    }
    if (!hostAllowed(host) && request.routeOptions.config.probe !== true) {
      options.events.denied(request.ip, 'host');
      replyError(request, reply, 'WARDEN_ERR_HOST_FORBIDDEN', 'host');
      return;
    }
    if (!originAllowed(request.headers.origin, host) && options.anyOrigin?.(request) !== true) {
      options.events.denied(request.ip, 'origin');
      replyError(request, reply, 'WARDEN_ERR_ORIGIN_FORBIDDEN', 'origin');
      return;
    }
    done();
  };
}

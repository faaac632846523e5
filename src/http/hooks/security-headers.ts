/**
 * @module http/hooks/security-headers
 * Headers on every response (OWASP Secure Headers; REST Security Cheat Sheet): no MIME
 * sniffing, no framing, no referrer, no caching of API answers, and a CSP that allows
 * nothing (pages override it with their own). HSTS only when the public URL is https.
 */

import type { FastifyReply, FastifyRequest, HookHandlerDoneFunction, onRequestHookHandler } from 'fastify';

export interface SecurityHeadersOptions {
  /** Sends Strict-Transport-Security (RFC 6797); only correct when clients reach us over https. */
  readonly hsts: boolean;
}

/** The fixed headers every response carries. */
export function baseSecurityHeaders(options: SecurityHeadersOptions): Readonly<Record<string, string>> {
  return Object.freeze({
    'x-content-type-options': 'nosniff',
    'x-frame-options': 'DENY',
    'referrer-policy': 'no-referrer',
    'content-security-policy': "default-src 'none'; frame-ancestors 'none'",
    'cross-origin-resource-policy': 'same-origin',
    'cache-control': 'no-store',
    ...(options.hsts ? { 'strict-transport-security': 'max-age=31536000; includeSubDomains' } : {}),
  });
}

/** Creates the onRequest hook that sets the security headers (before any hook may answer). */
export function createSecurityHeaders(options: SecurityHeadersOptions): onRequestHookHandler {
  const headers = baseSecurityHeaders(options);
  return function securityHeaders(request: FastifyRequest, reply: FastifyReply, done: HookHandlerDoneFunction): void {
    reply.headers(headers);
    reply.header('x-request-id', request.id);
    done();
  };
}

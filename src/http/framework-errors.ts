/**
 * @module http/framework-errors
 * Requests Fastify refuses before any hook runs (a URL that does not decode, `GET /%zz`) are
 * answered like every other refusal: they meet the IP rules, bans and rate limit first (a
 * denied client gets 403, a limited one 429, and the request counts toward its limit), then
 * get our 400 body and security headers, and their line goes through the request log.
 */

import type { FastifyReply, FastifyRequest, HookHandlerDoneFunction } from 'fastify';
import { isWardenError } from '../errors.js';
import { replyError } from './error-reply.js';

/** An onRequest-style hook: answers the request, or calls `done` to let it through. */
export type RequestGuard = (request: FastifyRequest, reply: FastifyReply, done: HookHandlerDoneFunction) => void;

export interface FrameworkErrorOptions {
  /** The security headers every response carries. */
  readonly headers: Readonly<Record<string, string>>;
  /** The global guards, in hook order (IP rules and bans, rate limit); empty without security. */
  readonly guards: readonly RequestGuard[];
  /**
   * The client address. Fastify builds these requests without its trust-proxy request class,
   * so `request.ip` would be the proxy's address behind `--trust-proxy`.
   */
  readonly clientIp: (request: FastifyRequest) => string;
  /** The request log's onResponse hook, run once the answer is written. */
  readonly logRequest?: RequestGuard | undefined;
}

/** Fastify's `frameworkErrors` option: answers a request Fastify could not route. */
export type FrameworkErrorHandler = (error: { code?: unknown }, request: FastifyRequest, reply: FastifyReply) => void;

function noop(): void {}

/**
 * Creates Fastify's `frameworkErrors` handler.
 *
 * @example
 * Fastify({ frameworkErrors: createFrameworkErrorHandler({ headers, guards: [ipGuard, rateLimit], clientIp }) });
 */
export function createFrameworkErrorHandler(options: FrameworkErrorOptions): FrameworkErrorHandler {
  const { headers, guards, clientIp, logRequest } = options;
  return function frameworkError(error: { code?: unknown }, request: FastifyRequest, reply: FastifyReply): void {
    const reason = String(error.code).toLowerCase();
    Object.defineProperty(request, 'ip', { value: clientIp(request), configurable: true });
    // The request decorators' defaults (these requests are built from Fastify's base class).
    request.principal = null;
    request.authOutcome = 'public';
    request.failure = null;
    request.mcpMethod = null;
    request.mcpTool = null;
    reply.headers(headers);
    reply.header('x-request-id', request.id);
    if (logRequest !== undefined) reply.raw.once('close', () => logRequest(request, reply, noop));
    let index = 0;
    const next = (failure?: Error): void => {
      if (failure !== undefined && failure !== null) {
        const wardenError = isWardenError(failure) ? failure : undefined;
        if (wardenError === undefined) replyError(request, reply, 'WARDEN_ERR_INTERNAL', 'guard_failed');
        else replyError(request, reply, wardenError.code, wardenError.reason, wardenError.headers);
        return;
      }
      const guard = guards[index++];
      if (guard === undefined) replyError(request, reply, 'WARDEN_ERR_INVALID_REQUEST', reason);
      else guard(request, reply, next as HookHandlerDoneFunction);
    };
    next();
  };
}

/**
 * @module http/hooks/settle
 * The bridge from a store or verifier that answers either at once or with a Promise (memory
 * stores answer synchronously, Redis and remote JWKS asynchronously) to an onRequest hook's
 * `done` callback. The synchronous answer continues in the same tick with no Promise and no
 * closure allocated; a rejection reaches Fastify's error handler through `done(error)`.
 */

import type { FastifyReply, FastifyRequest, HookHandlerDoneFunction } from 'fastify';

/** What a hook does with the answer: reply, or call `done` to let the request through. */
export type HookContinuation<T> = (request: FastifyRequest, reply: FastifyReply, value: T, done: HookHandlerDoneFunction) => void;

/**
 * Calls `next` with `value` now when it is not a Promise, or once it resolves.
 *
 * @example
 * settle(store.consume(key, limit), request, reply, done, apply);
 */
export function settle<T>(value: T | Promise<T>, request: FastifyRequest, reply: FastifyReply, done: HookHandlerDoneFunction, next: HookContinuation<T>): void {
  if (value instanceof Promise) {
    value.then(
      (settled) => next(request, reply, settled, done),
      (error: unknown) => done(error as Error),
    );
    return;
  }
  next(request, reply, value, done);
}

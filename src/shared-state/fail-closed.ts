/**
 * @module shared-state/fail-closed
 * The authorization server's stores in Redis fail closed: a store call that fails (Redis down,
 * slow past `--redis-timeout`, refusing writes) rejects with `WARDEN_ERR_SHARED_STATE_UNAVAILABLE`
 * instead of the client library's error, after being counted like every absorbed Redis failure
 * (health, metrics, the throttled warn line). No grant is made without Redis (a code, a refresh
 * token or a sign-in is single use only if Redis says so), and the OAuth routes can answer a clear
 * `temporarily_unavailable` (http/routes/oauth-server) rather than a 500.
 *
 * A Proxy rather than a class per store: every method of the wrapped store is covered, including
 * those later record types add to the interface.
 */

import { WardenError } from '../errors.js';

/**
 * `store` with every method's failure turned into `WARDEN_ERR_SHARED_STATE_UNAVAILABLE` (reason
 * `redis`, the original as `cause`); `onFailure` hears each one.
 *
 * @example
 * const store = failClosed(new RedisOAuthStore({ client, keys, seal }), onFailure);
 * await store.takeCode(digest, now); // rejects with WardenError(WARDEN_ERR_SHARED_STATE_UNAVAILABLE) when Redis fails
 */
export function failClosed<T extends object>(store: T, onFailure: (error: unknown) => void): T {
  const unavailable = (error: unknown): WardenError => {
    if (error instanceof WardenError && error.code === 'WARDEN_ERR_SHARED_STATE_UNAVAILABLE') return error;
    onFailure(error);
    return new WardenError('WARDEN_ERR_SHARED_STATE_UNAVAILABLE', { reason: 'redis', cause: error });
  };
  return new Proxy(store, {
    get(target, property) {
      const value: unknown = Reflect.get(target, property, target);
      if (typeof value !== 'function') return value;
      return (...args: unknown[]): unknown => {
        let result: unknown;
        try {
          result = (value as (...params: unknown[]) => unknown).apply(target, args);
        } catch (error) {
          throw unavailable(error);
        }
        return result instanceof Promise ? result.catch((error: unknown) => Promise.reject(unavailable(error))) : result;
      };
    },
  });
}

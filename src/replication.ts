/**
 * @module replication
 * The state replicas share: in memory for one process (the default), or in Redis with
 * `--redis-url`, so several replicas act as one server: rate limits, session metadata, bans,
 * key revocations, and messages for GET streams held elsewhere.
 *
 * Failure policy: every Redis call has a short timeout. With `open` (default) a failed call is
 * answered from this replica's own state; with `closed` rate-limited routes answer 503. Either
 * way nothing waits, `/health` says `degraded`, fallbacks are counted and logged, and shared
 * state resumes by itself when Redis is back.
 *
 * Trust: Redis is a neighbour, not an authority. Bus messages and the records that grant or bind
 * anything are signed with the shared secret (see `store/redis/replica-trust`); what fails is
 * ignored and counted.
 */

import { randomUUID } from 'node:crypto';
import type { Logger } from 'pino';
import type { Config } from './config/load.js';
import type { Metrics } from './observability/metrics.js';
import type { BanList } from './security/ban-list.js';
import type { KeySource } from './security/key-source.js';
import { LocalEventBus } from './store/memory/event-bus.js';
import { MemoryRateLimitStore } from './store/memory/rate-limit.js';
import { MemorySessionStore } from './store/memory/session-store.js';
import type { RedisKeys } from './store/redis/keys.js';
import { SharedRateLimitStore } from './store/shared-rate-limit.js';
import type { EventBus, EventStore, RateLimitStore, SessionStore } from './store/types.js';

/** How often, at most, a warn line reports Redis fallbacks. */
const FALLBACK_LOG_INTERVAL_MS = 10_000;

export interface HealthReport {
  readonly status: 'ok' | 'degraded';
  readonly reason?: string;
}

export interface Replication {
  readonly mode: 'memory' | 'redis';
  readonly replicaId: string;
  readonly sessionStore: SessionStore;
  readonly bus: EventBus;
  /** Recent SSE events shared across replicas (Redis only), for resuming a stream elsewhere. */
  readonly eventStore: EventStore | undefined;
  /** A rate-limit store for `limiter` (`ip`, `key`, `authfail`), shared when Redis is configured. */
  rateLimitStore(limiter: string, options: { windowMs: number; maxLimit: number; maxClients: number; overflow?: 'share' | 'evict' }): RateLimitStore;
  /** Shares bans decided here and applies bans decided elsewhere. */
  shareBans(bans: BanList): void;
  /** Shares key revocations/expiries and applies those of other replicas. */
  shareKeys(source: KeySource): void;
  health(): HealthReport;
  /** Waits (bounded) for the shared store at start; true when it is reachable. */
  ready(timeoutMs: number): Promise<boolean>;
  /** Calls answered without Redis since start. */
  readonly fallbacks: number;
  /** Called after a Redis failure was absorbed (sessions, bus): counts it like a limiter fallback. */
  onFailure(error: unknown): void;
  close(): Promise<void>;
}

/** One process, no Redis: everything local. */
function memoryReplication(): Replication {
  const bus = new LocalEventBus();
  return {
    mode: 'memory',
    replicaId: randomUUID(),
    sessionStore: new MemorySessionStore(),
    bus,
    eventStore: undefined,
    rateLimitStore: (_limiter, options) => new MemoryRateLimitStore(options),
    shareBans: () => undefined,
    shareKeys: () => undefined,
    health: () => ({ status: 'ok' }),
    ready: async () => true,
    fallbacks: 0,
    onFailure: () => undefined,
    close: () => bus.close(),
  };
}

async function redisReplication(config: Readonly<Config>, logger: Logger, metrics: Metrics | undefined): Promise<Replication> {
  // Loaded only with --redis-url: the client library costs ~20 MB of memory a single process never needs.
  const [{ RedisConnection }, { RedisEventBus }, { RedisEventStore }, { redisKeys }, { RedisRateLimitStore }, { RedisSessionStore }, { createReplicaTrust }, records] = await Promise.all([
    import('./store/redis/connection.js'),
    import('./store/redis/event-bus.js'),
    import('./store/redis/event-store.js'),
    import('./store/redis/keys.js'),
    import('./store/redis/rate-limit.js'),
    import('./store/redis/session-store.js'),
    import('./store/redis/replica-trust.js'),
    import('./store/redis/sealed-records.js'),
  ]);
  const replicaId = randomUUID();
  const keys: RedisKeys = redisKeys(config.redisPrefix);
  // loadConfig refuses --redis-url without a shared secret.
  const trust = createReplicaTrust({ sharedSecret: config.sharedSecret as string, sharedSecretPrevious: config.sharedSecretPrevious, channel: keys.events, logger, metrics });
  const seal = trust.seal;
  let lastLog = 0;
  let unlogged = 0;
  const connection = new RedisConnection({
    url: config.redisUrl as string,
    timeoutMs: config.redisTimeout,
    onStateChange: (healthy, reason) => {
      if (healthy) logger.info('redis connected: shared state on');
      else logger.warn({ reason, policy: config.redisFailure }, 'redis unavailable: falling back to per-replica state');
    },
  });
  const onFailure = (error: unknown): void => {
    connection.countFallback(error);
    metrics?.redisFallback();
    unlogged++;
    const now = Date.now();
    if (now - lastLog >= FALLBACK_LOG_INTERVAL_MS) {
      logger.warn({ fallbacks: unlogged, reason: connection.reason ?? String((error as Error)?.message ?? error), policy: config.redisFailure }, 'redis calls failed; answered from per-replica state');
      lastLog = now;
      unlogged = 0;
    }
  };
  metrics?.watchRedis(() => connection.healthy);
  const subscriber = connection.subscriber();
  subscriber.on('error', (error: unknown) => trust.onClientError(error));
  const bus = new RedisEventBus({ client: connection.client, subscriber, keys, codec: trust.codec, onDrop: (reason, error) => trust.onBusDrop(reason, error) });
  return {
    mode: 'redis',
    replicaId,
    sessionStore: new RedisSessionStore({ client: connection.client, keys, seal }),
    bus,
    eventStore: new RedisEventStore({ client: connection.client, keys, seal, onError: onFailure }),
    rateLimitStore(limiter, options) {
      return new SharedRateLimitStore({
        shared: new RedisRateLimitStore({ client: connection.client, keys, limiter, windowMs: options.windowMs }),
        fallback: new MemoryRateLimitStore(options),
        policy: config.redisFailure,
        healthy: () => connection.healthy,
        onFallback: onFailure,
      });
    },
    shareBans(bans) {
      bans.onShare((ban) => {
        const ttl = Math.max(1, ban.until - Date.now());
        connection.client
          .set(keys.ban(ban.client), records.sealBan(seal, keys.ban(ban.client), ban.until), 'PX', ttl)
          .then(() => bus.publish({ type: 'ban', origin: replicaId, client: ban.client, until: ban.until }))
          .catch(onFailure);
      });
      bus.onMessage((message) => {
        if (message.type === 'ban' && message.origin !== replicaId) bans.ban(message.client, message.until, false);
      });
      // Bans decided before this replica started.
      void (async () => {
        try {
          const stream = connection.client.scanStream({ match: keys.banPattern, count: 200 });
          for await (const batch of stream as AsyncIterable<string[]>) {
            if (batch.length === 0) continue;
            const values = await connection.client.mget(batch);
            batch.forEach((key, index) => {
              const until = records.openBan(seal, key, values[index]);
              if (until !== undefined && until > Date.now()) bans.ban(key.slice(keys.ban('').length), until, false);
            });
          }
        } catch (error) {
          onFailure(error);
        }
      })();
    },
    shareKeys(source) {
      source.shareRestrictionsWith((restrictions) => {
        if (restrictions.length === 0) return;
        const fields: Record<string, string> = {};
        for (const restriction of restrictions) fields[restriction.id] = records.sealRestriction(seal, keys.keyRestrictions, restriction);
        connection.client
          .hset(keys.keyRestrictions, fields)
          .then(() => bus.publish({ type: 'keys_restricted', origin: replicaId, restrictions }))
          .catch(onFailure);
      });
      bus.onMessage((message) => {
        if (message.type === 'keys_restricted' && message.origin !== replicaId) source.applyRestrictions(message.restrictions);
      });
      void connection.client
        .hgetall(keys.keyRestrictions)
        .then((stored) => source.applyRestrictions(records.openRestrictions(seal, keys.keyRestrictions, stored)))
        .catch(onFailure);
    },
    health: () => (connection.healthy ? { status: 'ok' } : { status: 'degraded', reason: `redis unavailable (${connection.reason ?? 'unknown'}); limits are per replica` }),
    ready: (timeoutMs) => connection.ready(timeoutMs),
    get fallbacks() {
      return connection.fallbacks;
    },
    onFailure,
    async close() {
      await bus.close();
      await connection.close();
    },
  };
}

/** The shared state for this configuration. */
export async function createReplication(config: Readonly<Config>, logger: Logger, metrics: Metrics | undefined): Promise<Replication> {
  return config.redisUrl === undefined ? memoryReplication() : redisReplication(config, logger, metrics);
}

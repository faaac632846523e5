/**
 * @module shared-state
 * The state replicas share: in memory for one process (the default), or in Redis with
 * `--redis-url`, so several replicas act as one server: rate limits, session metadata, bans,
 * key revocations, and messages for GET streams held elsewhere.
 *
 * Failure policy: every Redis call has a short timeout. With `open` (default) a failed call is
 * answered from this replica's own state; with `closed` rate-limited routes answer 503. Either
 * way no call waits longer than the timeout, `/health` says `degraded`, fallbacks are counted and logged, and shared
 * state resumes by itself when Redis is back.
 *
 * Trust: Redis is a neighbour, not an authority. Bus messages and the records that grant or bind
 * anything are signed with the shared secret (see `store/redis/replica-trust`); what fails is
 * ignored and counted.
 */

import { randomUUID } from 'node:crypto';
import type { Logger } from 'pino';
import type { Config, EventStoreConfig, RedisConfig } from '../config/load.js';
import type { Metrics } from '../observability/metrics.js';
import type { BanList } from '../security/ban-list.js';
import type { KeySource } from '../security/key-source.js';
import { shareBans, shareKeys, type SecurityLink } from './security-sharing.js';
import { LocalEventBus } from '../store/memory/event-bus.js';
import { MemoryRateLimitStore } from '../store/memory/rate-limit.js';
import { MemorySessionStore } from '../store/memory/session-store.js';
import type { RedisKeys } from '../store/redis/keys.js';
import type { OAuthStore } from '../security/oauth/store.js';
import type { SigningKeyStore } from '../security/oauth/signing-keys.js';
import type { PendingSignInStore } from '../security/oauth/pending-sign-ins.js';
import type { ConsentStore, CsrfSigner } from '../security/oauth/consent.js';
import { failClosed } from './fail-closed.js';
import { SharedRateLimitStore } from './shared-rate-limit.js';
import type { EventBus, EventStore, RateLimitStore, SessionStore } from '../store/types.js';

/** How often, at most, a warn line reports Redis fallbacks. */
const FALLBACK_LOG_INTERVAL_MS = 10_000;

export interface HealthReport {
  readonly status: 'ok' | 'degraded';
  /** Why degraded: `redis_down`, `redis_timeouts`, `redis_oom` or `redis_errors`. */
  readonly reason?: string;
  readonly detail?: string;
}

export interface SharedState {
  readonly mode: 'memory' | 'redis';
  readonly replicaId: string;
  readonly sessionStore: SessionStore;
  readonly bus: EventBus;
  /** Recent SSE events shared across replicas (Redis only), for resuming a stream elsewhere. */
  readonly eventStore: EventStore | undefined;
  /**
   * A rate-limit store for `limiter` (`ip`, `key`, `authfail`, `tool:<window ms>`), shared when
   * Redis is configured. `now` is the clock of the in-memory limiter (and of the local count
   * beside Redis); Redis itself counts on its own `TIME`.
   */
  rateLimitStore(limiter: string, options: { windowMs: number; maxLimit: number; maxClients: number; overflow?: 'share' | 'evict'; now?: () => number }): RateLimitStore;
  /** Shares bans decided here and applies bans decided elsewhere. */
  shareBans(bans: BanList): void;
  /** Shares key revocations/expiries and applies those of other replicas. */
  shareKeys(source: KeySource): void;
  health(): HealthReport;
  /**
   * Starts the start-up sync (restrictions and bans stored in Redis, retried until Redis
   * answers) and the heartbeat; resolves true once synced, false after `timeoutMs` (the sync
   * goes on in the background).
   */
  ready(timeoutMs: number): Promise<boolean>;
  /** True once the start-up sync completed (always true in memory). */
  readonly synced: boolean;
  /** Live replicas known from the heartbeats (1 in memory or before the first beat). */
  readonly liveReplicas: number;
  /** Runs `handler` when Redis answers again after failing, or after it lost its data. */
  onRecovered(handler: () => void | Promise<void>): void;
  /** Calls answered without Redis since start. */
  readonly fallbacks: number;
  /** Called after a Redis failure was absorbed (sessions, bus): counts it like a limiter fallback. */
  onFailure(error: unknown): void;
  /**
   * The authorization server's grant store and signing key store in Redis (`--oauth-issuer`
   * with `--redis-url`), shared by the replicas; undefined in memory. `now` is the server clock.
   */
  oauthStores(now: () => number): Promise<SharedOAuthStores | undefined>;
  close(): Promise<void>;
}

/** What replicas share for the authorization server (issue 14, Must 6). */
export interface SharedOAuthStores {
  readonly store: OAuthStore;
  readonly signingKeys: SigningKeyStore;
  /** Upstream OpenID Connect sign-ins waiting for the provider's callback (it may land on any replica). */
  readonly pendingSignIns: PendingSignInStore;
  /** Key sign-in consents waiting for the form post (it may land on any replica), and their CSRF tags. */
  readonly consents: ConsentStore;
  readonly consentCsrf: CsrfSigner;
}

/** One process, no Redis: everything local. */
function memorySharedState(): SharedState {
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
    synced: true,
    liveReplicas: 1,
    onRecovered: () => undefined,
    fallbacks: 0,
    onFailure: () => undefined,
    oauthStores: async () => undefined,
    close: () => bus.close(),
  };
}

/** What the shared stores need from the rest of the server. */
export interface SharedStateHooks {
  /** The principal an SSE stream belongs to (its session's), for the per-principal byte budget. */
  readonly streamOwner?: (streamId: string) => string | undefined;
}

/** The Redis modules, loaded only with --redis-url: the client library costs ~20 MB of memory a single process never needs. */
async function loadRedisModules() {
  const [connection, eventBus, eventStore, keys, rateLimit, sessionStore, replicaTrust, securityState, resilience] = await Promise.all([
    import('../store/redis/connection.js'),
    import('../store/redis/event-bus.js'),
    import('../store/redis/event-store.js'),
    import('../store/redis/keys.js'),
    import('../store/redis/rate-limit.js'),
    import('../store/redis/session-store.js'),
    import('../store/redis/replica-trust.js'),
    import('../store/redis/security-state.js'),
    import('../store/redis/resilience.js'),
  ]);
  return { ...connection, ...eventBus, ...eventStore, ...keys, ...rateLimit, ...sessionStore, ...replicaTrust, ...securityState, ...resilience };
}

/**
 * Counts events and writes one warn line at most once per interval, with how many there were
 * since the last line: `fields(count, detail)` builds that line's fields.
 */
function throttledWarn(logger: Logger, message: string, fields: (count: number, detail: string) => Record<string, unknown>): (detail?: string) => void {
  let lastLog = 0;
  let unlogged = 0;
  return (detail = '') => {
    unlogged++;
    const now = Date.now();
    if (now - lastLog < FALLBACK_LOG_INTERVAL_MS) return;
    logger.warn(fields(unlogged, detail), message);
    lastLog = now;
    unlogged = 0;
  };
}

/** Absorbed Redis failures, at most one line per interval. */
function fallbackLog(logger: Logger, policy: RedisConfig['failure']): (reason: string) => void {
  return throttledWarn(logger, 'redis calls failed; answered from per-replica state', (fallbacks, reason) => ({ fallbacks, reason, policy }));
}

/** Requests Redis admitted past this replica's own count, at most one line per interval (counts only). */
function localCapLog(logger: Logger, limiter: string): () => void {
  const warn = throttledWarn(logger, "rate limit: redis admitted requests past this replica's own count (counters deleted or lost?); refused locally", (refused) => ({ refused, limiter }));
  return () => warn();
}

/** Where connection events go once the resilience part exists. */
interface HealthSink {
  current?: { clear(): void; failure(error: unknown): void };
}

type RedisModules = Awaited<ReturnType<typeof loadRedisModules>>;

/** The Redis connection, and what every absorbed Redis failure does (health, counters, a throttled log line). */
function redisConnection(modules: RedisModules, redis: RedisConfig, logger: Logger, metrics: Metrics | undefined, health: HealthSink) {
  const connection = new modules.RedisConnection({
    url: redis.url,
    timeoutMs: redis.timeout,
    onStateChange: (healthy, reason) => {
      if (!healthy) return logger.warn({ reason, policy: redis.failure }, 'redis unavailable: falling back to per-replica state');
      health.current?.clear();
      logger.info('redis connected: shared state on');
    },
  });
  const logFallback = fallbackLog(logger, redis.failure);
  const onFailure = (error: unknown): void => {
    health.current?.failure(error);
    connection.countFallback(error);
    metrics?.redisFallback();
    logFallback(connection.reason ?? String((error as Error)?.message ?? error));
  };
  return { connection, onFailure };
}

async function redisSharedState(redis: RedisConfig, budgets: EventStoreConfig, logger: Logger, metrics: Metrics | undefined, hooks: SharedStateHooks): Promise<SharedState> {
  const modules = await loadRedisModules();
  const replicaId = randomUUID();
  const keys: RedisKeys = modules.redisKeys(redis.prefix);
  const trust = modules.createReplicaTrust({ sharedSecret: redis.sharedSecret, sharedSecretPrevious: redis.sharedSecretPrevious, channel: keys.events, logger, metrics });
  const seal = trust.seal;
  // The connection reports to the health window, which needs the connection: bound once both exist.
  const health: HealthSink = {};
  const { connection, onFailure } = redisConnection(modules, redis, logger, metrics, health);
  const client = connection.client;
  const securityState = new modules.RedisSecurityState({ client, keys, seal });
  const resilience = new modules.RedisResilience({
    client,
    keys,
    securityState,
    replicaId,
    connected: () => connection.healthy,
    downReason: () => connection.reason,
    onFailure,
    onLog: (level, fields, message) => logger[level](fields, message),
  });
  health.current = resilience.health;
  metrics?.watchRedis(() => resilience.report().status === 'ok');
  const subscriber = connection.subscriber();
  subscriber.on('error', (error: unknown) => trust.onClientError(error));
  const bus = new modules.RedisEventBus({ client, subscriber, keys, codec: trust.codec, onDrop: (reason, error) => trust.onBusDrop(reason, error) });
  const link: SecurityLink = { replicaId, bus, securityState, resilience, onFailure };
  const eventStore = new modules.RedisEventStore({
    ...{ client, keys, seal, onError: onFailure, ownerOf: hooks.streamOwner },
    ...{ maxBytes: budgets.bytes, maxPrincipalBytes: budgets.principalBytes, maxStreamBytes: budgets.streamBytes },
  });
  const rateLimitStore: SharedState['rateLimitStore'] = (limiter, options) =>
    resilience.addLimiter(
      new SharedRateLimitStore({
        shared: new modules.RedisRateLimitStore({ client, keys, limiter, windowMs: options.windowMs }),
        fallback: new MemoryRateLimitStore(options),
        policy: redis.failure,
        healthy: () => connection.healthy,
        replicas: () => resilience.heartbeat.live,
        onFallback: onFailure,
        onSuccess: () => resilience.health.success(),
        onLocalCap: localCapLog(logger, limiter),
      }),
    );
  return {
    mode: 'redis',
    replicaId,
    sessionStore: new modules.RedisSessionStore({ client, keys, seal }),
    bus,
    eventStore,
    rateLimitStore,
    shareBans: (bans) => shareBans(link, bans),
    shareKeys: (source) => shareKeys(link, source),
    health: () => resilience.report(),
    ready: (timeoutMs) => resilience.ready(timeoutMs),
    get synced() {
      return resilience.synced;
    },
    get liveReplicas() {
      return resilience.heartbeat.live;
    },
    onRecovered: (handler) => resilience.onRecovered(handler),
    get fallbacks() {
      return connection.fallbacks;
    },
    onFailure,
    async oauthStores(now) {
      const [{ RedisOAuthStore }, { RedisSigningKeyStore }, { RedisPendingSignIns }, { RedisConsentStore, sharedCsrfSigner }] = await Promise.all([
        import('../store/redis/oauth-store.js'),
        import('../store/redis/signing-key-store.js'),
        import('../store/redis/pending-sign-ins.js'),
        import('../store/redis/consents.js'),
      ]);
      return {
        // Grants fail closed: without Redis no code, refresh token or sign-in can be proven single use (shared-state/fail-closed).
        store: failClosed(new RedisOAuthStore({ client, keys, seal, now, onError: onFailure }), onFailure),
        signingKeys: new RedisSigningKeyStore({ client, key: keys.oauthSigningKeys, secret: trust.secret }),
        pendingSignIns: failClosed(new RedisPendingSignIns({ client, keys, secret: trust.secret, onReject: () => metrics?.recordRejected('oauth') }), onFailure),
        consents: failClosed(new RedisConsentStore({ client, keys, secret: trust.secret, onReject: () => metrics?.recordRejected('oauth') }), onFailure),
        consentCsrf: sharedCsrfSigner(trust.secret),
      };
    },
    async close() {
      await resilience.close();
      // The subscriber queues commands while Redis is down: never let UNSUBSCRIBE hold a shutdown.
      await Promise.race([bus.close(), new Promise((resolve) => setTimeout(resolve, Math.max(200, redis.timeout * 4)).unref())]);
      await connection.close();
    },
  };
}

/** The shared state for this configuration. */
export async function createSharedState(config: Readonly<Config>, logger: Logger, metrics: Metrics | undefined, hooks: SharedStateHooks = {}): Promise<SharedState> {
  return config.redis === undefined ? memorySharedState() : redisSharedState(config.redis, config.eventStore, logger, metrics, hooks);
}

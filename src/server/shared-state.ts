/**
 * @module server/shared-state
 * What this replica shares with the others (see `src/shared-state`): the shared state itself,
 * readiness (not ready until it is synced), the ban list and the rate-limit stores on it,
 * session sharing and the changes listen streams announce (both Redis only).
 */

import type { Logger } from 'pino';
import type { Config } from '../config/load.js';
import type { Metrics } from '../observability/metrics.js';
import { BAN_FAILURE_WINDOW_MS, BanList, DEFAULT_MAX_BANS } from '../security/ban-list.js';
import { createSharedState, type SharedState } from '../shared-state/index.js';
import { createReadiness, type Readiness } from '../shared-state/readiness.js';
import { ChangeSharing } from '../shared-state/change-sharing.js';
import { SessionSharing } from '../shared-state/session-sharing.js';
import type { RateLimitStore } from '../store/types.js';
import { streamOwnerOf } from './engine.js';
import type { LateParts } from './late.js';

export interface ServerSharedState {
  readonly sharedState: SharedState;
  readonly readiness: Readiness;
  readonly bans: BanList;
  /** Present with Redis only. */
  readonly sharing: SessionSharing | undefined;
  /** Changes for `subscriptions/listen` streams, to and from other replicas; Redis only. */
  readonly changes: ChangeSharing | undefined;
  readonly rateLimitStore: RateLimitStore;
  readonly keyRateLimitStore: RateLimitStore;
  /** The per-tool rate limits' stores, one per distinct window (window ms → store); empty when none is configured. */
  readonly toolRateLimitStores: ReadonlyMap<number, RateLimitStore>;
}

function readinessOf(config: Readonly<Config>, logger: Logger, sharedState: SharedState): Readiness {
  return createReadiness({
    synced: () => sharedState.synced,
    // Without Redis the state is always synced, so the policy and timeout never apply.
    policy: config.redis?.failure ?? 'open',
    timeoutMs: (config.redis?.syncTimeout ?? 0) * 1000,
    onGiveUp: () =>
      logger.error(
        { waitedSeconds: config.redis?.syncTimeout, policy: config.redis?.failure },
        'SERVING WITHOUT SHARED STATE: redis did not answer within the sync timeout; revocations and bans made by other replicas are not applied until it does',
      ),
  });
}

function sessionSharingOf(config: Readonly<Config>, now: () => number, sharedState: SharedState): SessionSharing | undefined {
  if (sharedState.mode !== 'redis') return undefined;
  const sharing = new SessionSharing({
    store: sharedState.sessionStore,
    bus: sharedState.bus,
    replicaId: sharedState.replicaId,
    ttlMs: config.sessions.ttl * 1000,
    onError: (error) => sharedState.onFailure(error),
    now,
  });
  // Sessions created while Redis failed (or lost when it restarted empty) become shared again.
  sharedState.onRecovered(() => sharing.republish().then(() => undefined));
  return sharing;
}

/** Logs bans refused because the table is full of active bans, at most once per 10 s (counts only). */
function banTableFullLog(logger: Logger): () => void {
  let lastLog = -Infinity;
  let unlogged = 0;
  return () => {
    unlogged++;
    const now = Date.now();
    if (now - lastLog < 10_000) return;
    logger.warn({ refused: unlogged, maxBans: DEFAULT_MAX_BANS }, 'ban table full: bans refused (every entry still active)');
    lastLog = now;
    unlogged = 0;
  };
}

/**
 * One store per distinct window of `--tool-rate-limit` (a store's window is fixed), sized for
 * the largest limit in it. `clock` (the library's `clock` option) drives the in-memory
 * limiter; without it the limiter keeps its monotonic default.
 */
function toolRateLimitStoresOf(config: Readonly<Config>, sharedState: SharedState, clock: (() => number) | undefined): ReadonlyMap<number, RateLimitStore> {
  const maxLimits = new Map<number, number>();
  for (const { windowMs, limit } of config.toolRateLimit) maxLimits.set(windowMs, Math.max(limit, maxLimits.get(windowMs) ?? 0));
  const stores = new Map<number, RateLimitStore>();
  for (const [windowMs, maxLimit] of maxLimits) {
    stores.set(windowMs, sharedState.rateLimitStore(`tool:${windowMs}`, { windowMs, maxLimit, maxClients: config.rateLimitMaxClients, ...(clock === undefined ? {} : { now: clock }) }));
  }
  return stores;
}

export async function createServerSharedState(
  config: Readonly<Config>,
  logger: Logger,
  now: () => number,
  metrics: Metrics | undefined,
  late: Pick<LateParts, 'sessions' | 'bans'>,
  limiterClock?: () => number,
): Promise<ServerSharedState> {
  const sharedState = await createSharedState(config, logger, metrics, { streamOwner: streamOwnerOf(late.sessions) });
  const readiness = readinessOf(config, logger, sharedState);
  const bans = late.bans.set(
    new BanList({
      threshold: config.banThreshold,
      banMs: config.banSeconds * 1000,
      onFull: banTableFullLog(logger),
      failures:
        config.banThreshold > 0
          ? sharedState.rateLimitStore('authfail', { windowMs: BAN_FAILURE_WINDOW_MS, maxLimit: config.banThreshold, maxClients: config.banMaxClients, overflow: 'evict' })
          : undefined,
    }),
  );
  sharedState.shareBans(bans);
  const sharing = sessionSharingOf(config, now, sharedState);
  const changes = sharedState.mode === 'redis' ? new ChangeSharing({ bus: sharedState.bus, replicaId: sharedState.replicaId, onError: (error) => sharedState.onFailure(error) }) : undefined;
  const rateLimitStore = sharedState.rateLimitStore('ip', { windowMs: config.rateWindow * 1000, maxLimit: config.rateLimit, maxClients: config.rateLimitMaxClients });
  const keyRateLimitStore = sharedState.rateLimitStore('key', { windowMs: config.rateWindow * 1000, maxLimit: 1_000_000, maxClients: 100_000 });
  const toolRateLimitStores = toolRateLimitStoresOf(config, sharedState, limiterClock);
  return { sharedState, readiness, bans, sharing, changes, rateLimitStore, keyRateLimitStore, toolRateLimitStores };
}

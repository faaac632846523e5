/**
 * @module shared-state/readiness
 * Whether this replica may serve: once the start-up sync of the shared state completed (the
 * revocations, restrictions and bans other replicas wrote to Redis are applied). Until then
 * `/ready` answers 503 and `/mcp` and `/api/*` answer 503 with Retry-After. With the `open`
 * failure policy a replica whose Redis stays unreachable for `timeoutMs` after start serves
 * anyway (logged loudly: revocations and bans made elsewhere are unknown to it until Redis
 * answers); with `closed` it waits for Redis however long that takes.
 */

export interface ReadinessOptions {
  /** True once the shared state is synced. */
  readonly synced: () => boolean;
  readonly policy: 'open' | 'closed';
  /** How long after start `open` waits for the sync before serving, ms. */
  readonly timeoutMs: number;
  /** Called once when the replica serves without having synced. */
  readonly onGiveUp?: () => void;
  readonly now?: () => number;
}

export interface Readiness {
  /** Starts the clock (at server start). */
  start(): void;
  /** True when requests may be served. */
  ready(): boolean;
  /** `synced`, `unsynced` (serving after the start timeout) or `starting`. */
  state(): 'synced' | 'unsynced' | 'starting';
}

export function createReadiness(options: ReadinessOptions): Readiness {
  const now = options.now ?? Date.now;
  let startedAt: number | undefined;
  let gaveUp = false;
  const state = (): 'synced' | 'unsynced' | 'starting' => {
    if (options.synced()) return 'synced';
    if (options.policy === 'open' && startedAt !== undefined && now() - startedAt >= options.timeoutMs) {
      if (!gaveUp) {
        gaveUp = true;
        options.onGiveUp?.();
      }
      return 'unsynced';
    }
    return 'starting';
  };
  return {
    start: () => {
      startedAt ??= now();
    },
    ready: () => state() !== 'starting',
    state,
  };
}

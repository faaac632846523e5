/**
 * @module store/redis/startup-sync
 * What a replica must know before it serves: the key restrictions (revocations, expiries) and
 * bans other replicas wrote to Redis before it started. Without them, a replica started after
 * `keys revoke` with a stale keys file would accept the revoked key. The sync retries with
 * backoff (100 ms doubling to 2 s) until Redis answers; the replica reports not-ready until then
 * (see `/ready`). What is read and applied: `security-state`.
 */

export interface StartupSyncOptions {
  /** One attempt; throws when Redis fails. */
  readonly attempt: () => Promise<void>;
  readonly onError?: (error: unknown) => void;
  /** First retry delay, ms (default 100); doubles up to `maxDelayMs` (default 2000). */
  readonly delayMs?: number;
  readonly maxDelayMs?: number;
}

/** Runs `attempt` until it succeeds; `done` settles then (never rejects). */
export class StartupSync {
  readonly done: Promise<void>;
  #synced = false;
  #stopped = false;
  #timer: NodeJS.Timeout | undefined;
  #wake: (() => void) | undefined;

  constructor(options: StartupSyncOptions) {
    this.done = this.#run(options);
  }

  get synced(): boolean {
    return this.#synced;
  }

  stop(): void {
    this.#stopped = true;
    if (this.#timer !== undefined) clearTimeout(this.#timer);
    this.#wake?.();
  }

  async #run(options: StartupSyncOptions): Promise<void> {
    let delay = options.delayMs ?? 100;
    while (!this.#stopped) {
      try {
        await options.attempt();
        this.#synced = true;
        return;
      } catch (error) {
        options.onError?.(error);
      }
      await new Promise<void>((resolve) => {
        this.#wake = resolve;
        this.#timer = setTimeout(resolve, delay);
        this.#timer.unref();
      });
      delay = Math.min(delay * 2, options.maxDelayMs ?? 2000);
    }
  }
}

/**
 * @module store/redis/connection
 * The Redis connections (one for commands, one for subscriptions) with a short timeout on
 * every command and no offline queue, so a slow or absent Redis fails a call in
 * `timeoutMs` instead of holding a request. Tracks health for /health and the metrics.
 */

import { Redis } from 'ioredis';

export interface RedisConnectionOptions {
  readonly url: string;
  /** Per-command timeout, ms (default 50). */
  readonly timeoutMs?: number;
  /** Called when the connection goes down or comes back. */
  readonly onStateChange?: (healthy: boolean, reason: string | undefined) => void;
}

export class RedisConnection {
  readonly client: Redis;
  readonly #url: string;
  readonly #timeoutMs: number;
  readonly #onStateChange: RedisConnectionOptions['onStateChange'];
  #subscriber: Redis | undefined;
  #healthy = false;
  #reason: string | undefined = 'connecting';
  #fallbacks = 0;

  constructor(options: RedisConnectionOptions) {
    this.#url = options.url;
    this.#timeoutMs = options.timeoutMs ?? 50;
    this.#onStateChange = options.onStateChange;
    this.client = this.#connect();
    this.client.on('ready', () => this.#set(true, undefined));
    this.client.on('error', (error: Error) => this.#set(false, (error as NodeJS.ErrnoException).code ?? 'error'));
    this.client.on('close', () => this.#set(false, 'connection closed'));
  }

  /** True while the command connection is up. */
  get healthy(): boolean {
    return this.#healthy;
  }

  /** Why Redis is not usable right now (undefined when healthy). */
  get reason(): string | undefined {
    return this.#healthy ? undefined : this.#reason;
  }

  /** Calls answered from the per-replica fallback because Redis failed. */
  get fallbacks(): number {
    return this.#fallbacks;
  }

  /** Records one fallback (a command that failed or was skipped while Redis was down). */
  countFallback(error?: unknown): void {
    this.#fallbacks++;
    if (error !== undefined && this.#healthy && /timed out/i.test(String((error as Error).message))) this.#reason = 'command timed out';
  }

  /**
   * The subscriber connection (created on first use). It queues commands while disconnected:
   * it is never on a request's path, and its subscriptions must survive reconnects.
   */
  subscriber(): Redis {
    if (this.#subscriber === undefined) {
      this.#subscriber = new Redis(this.#url, { enableOfflineQueue: true, autoResubscribe: true, maxRetriesPerRequest: null, retryStrategy: (attempt) => Math.min(50 * attempt, 1000) });
      this.#subscriber.on('error', () => undefined);
    }
    return this.#subscriber;
  }

  /** Resolves when connected, or after `timeoutMs` (the caller serves degraded meanwhile). */
  ready(timeoutMs: number): Promise<boolean> {
    if (this.#healthy) return Promise.resolve(true);
    return new Promise((resolve) => {
      const timer = setTimeout(() => {
        this.client.off('ready', onReady);
        resolve(false);
      }, timeoutMs);
      const onReady = (): void => {
        clearTimeout(timer);
        resolve(true);
      };
      this.client.once('ready', onReady);
    });
  }

  async close(): Promise<void> {
    this.client.disconnect();
    this.#subscriber?.disconnect();
  }

  #connect(): Redis {
    return new Redis(this.#url, {
      commandTimeout: this.#timeoutMs,
      connectTimeout: Math.max(1000, this.#timeoutMs * 10),
      // Fail at once while disconnected: a request must never wait for Redis to come back.
      enableOfflineQueue: false,
      maxRetriesPerRequest: 0,
      retryStrategy: (attempt) => Math.min(50 * attempt, 1000),
      lazyConnect: false,
    });
  }

  #set(healthy: boolean, reason: string | undefined): void {
    const changed = healthy !== this.#healthy;
    this.#healthy = healthy;
    if (reason !== undefined) this.#reason = reason;
    if (changed) this.#onStateChange?.(healthy, reason);
  }
}

/**
 * @module store/redis/heartbeat
 * Each replica says "alive" in Redis every `intervalMs`: one script refreshes its entry in a
 * sorted set of replicas (score: Redis time + `ttlMs`), drops the entries that expired, and
 * reads the count. The count is cached from the last successful beat, so when Redis fails each
 * replica still knows how many share the limits (see shared-state/shared-rate-limit).
 *
 * The same script keeps a boot marker: a random id written once (SET NX) into an empty Redis.
 * When a beat reads a marker different from the one it read before, Redis lost its data
 * (restarted empty, flushed, failed over to an empty replica) and `onReset` runs, so replicas
 * re-seed what they counted. A beat that succeeds after one that failed runs `onRecovered`.
 */

import { randomUUID } from 'node:crypto';
import type { Redis } from 'ioredis';

/**
 * KEYS[1] the replicas' sorted set, KEYS[2] the boot marker; ARGV replica id, ttl ms, a fresh
 * boot id. Returns {live replicas, boot id}.
 */
const BEAT_SCRIPT = `
local time = redis.call('TIME')
local now = tonumber(time[1]) * 1000 + math.floor(tonumber(time[2]) / 1000)
local ttl = tonumber(ARGV[2])
redis.call('ZADD', KEYS[1], now + ttl, ARGV[1])
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now)
redis.call('PEXPIRE', KEYS[1], ttl * 2)
redis.call('SET', KEYS[2], ARGV[3], 'NX')
return { redis.call('ZCARD', KEYS[1]), redis.call('GET', KEYS[2]) }
`;

type BeatCommand = (replicas: string, boot: string, id: string, ttlMs: number, bootId: string) => Promise<[number, string]>;

export interface HeartbeatOptions {
  readonly client: Redis;
  readonly replicasKey: string;
  readonly bootKey: string;
  readonly replicaId: string;
  /** How often to beat, ms (default 1000). */
  readonly intervalMs?: number;
  /** How long a replica counts as live after its last beat, ms (default 3 × interval). */
  readonly ttlMs?: number;
  readonly onSuccess?: () => void;
  readonly onError?: (error: unknown) => void;
  /** Redis lost its data since the last beat (a different boot marker). */
  readonly onReset?: () => void;
  /** A beat succeeded after one that failed. */
  readonly onRecovered?: () => void;
}

export class Heartbeat {
  readonly #options: HeartbeatOptions;
  readonly #client: Redis & { wardenBeat?: BeatCommand };
  readonly #ttlMs: number;
  #timer: NodeJS.Timeout | undefined;
  #live = 1;
  #boot: string | undefined;
  #failing = false;
  #beating: Promise<void> | undefined;

  constructor(options: HeartbeatOptions) {
    this.#options = options;
    this.#client = options.client;
    this.#ttlMs = options.ttlMs ?? 3 * (options.intervalMs ?? 1000);
    if (this.#client.wardenBeat === undefined) this.#client.defineCommand('wardenBeat', { numberOfKeys: 2, lua: BEAT_SCRIPT });
  }

  /** Live replicas (this one included) at the last successful beat; 1 before the first. */
  get live(): number {
    return this.#live;
  }

  start(): void {
    if (this.#timer !== undefined) return;
    void this.beat();
    this.#timer = setInterval(() => void this.beat(), this.#options.intervalMs ?? 1000);
    this.#timer.unref();
  }

  /** One beat (also called by tests); concurrent calls share the beat in flight. */
  beat(): Promise<void> {
    this.#beating ??= this.#beat().finally(() => (this.#beating = undefined));
    return this.#beating;
  }

  async stop(): Promise<void> {
    if (this.#timer !== undefined) clearInterval(this.#timer);
    this.#timer = undefined;
    // Leave at once rather than after the TTL: the others' shares grow back immediately.
    await this.#client.zrem(this.#options.replicasKey, this.#options.replicaId).catch(() => undefined);
  }

  async #beat(): Promise<void> {
    const client = this.#client as Redis & { wardenBeat: BeatCommand };
    let live: number;
    let boot: string;
    try {
      [live, boot] = await client.wardenBeat(this.#options.replicasKey, this.#options.bootKey, this.#options.replicaId, this.#ttlMs, randomUUID());
    } catch (error) {
      this.#failing = true;
      this.#options.onError?.(error);
      return;
    }
    this.#live = Math.max(1, Number(live));
    this.#options.onSuccess?.();
    const previous = this.#boot;
    this.#boot = boot;
    const recovered = this.#failing;
    this.#failing = false;
    if (previous !== undefined && previous !== boot) this.#options.onReset?.();
    else if (recovered) this.#options.onRecovered?.();
  }
}

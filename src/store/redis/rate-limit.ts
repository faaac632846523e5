/**
 * @module store/redis/rate-limit
 * The rolling-window limiter shared by all replicas: the memory limiter's algorithm (a ring of
 * per-bucket counters plus the time of the last admission, so waits are exact) run atomically in one Lua script per request,
 * with Redis `TIME` as the clock so replica clocks may drift. Each client is one small hash
 * (bucket → count) that expires by itself one window after its last request.
 */

import type { Redis } from 'ioredis';
import { windowGeometry } from '../rolling-window.js';
import type { RateLimitDecision, RateLimitStore } from '../types.js';
import type { RedisKeys } from './keys.js';

/**
 * KEYS[1] the client's hash; ARGV limit, bucket ms, ring size, ttl ms, window ms, and (tests
 * only) a clock value in ms instead of Redis TIME. Field `-1` holds the latest admission (ms;
 * a name an older script reads as an expired bucket and deletes, so a rolling upgrade cannot
 * break it): the requests of a bucket count until its last possible instant, or that time for the newest
 * bucket, plus the window (the memory limiter's rule, so both announce the same waits).
 * Returns {allowed (0|1), counted total, ms until `needed` requests have left the window}.
 */
const CONSUME_SCRIPT = `
local limit = tonumber(ARGV[1])
local bucketMs = tonumber(ARGV[2])
local ring = tonumber(ARGV[3])
local ttl = tonumber(ARGV[4])
local window = tonumber(ARGV[5])
local nowMs
if ARGV[6] then
  nowMs = tonumber(ARGV[6])
else
  local time = redis.call('TIME')
  nowMs = tonumber(time[1]) * 1000 + math.floor(tonumber(time[2]) / 1000)
end
local current = math.floor(nowMs / bucketMs)
local oldest = current - ring + 1
local flat = redis.call('HGETALL', KEYS[1])
local live = {}
local stale = {}
local total = 0
local last = -1
for i = 1, #flat, 2 do
  if flat[i] == '-1' then
    last = tonumber(flat[i + 1])
  else
    local bucket = tonumber(flat[i])
    local count = tonumber(flat[i + 1])
    if bucket < oldest then
      stale[#stale + 1] = flat[i]
    else
      live[#live + 1] = { bucket, count }
      total = total + count
    end
  end
end
table.sort(live, function(a, b) return a[1] < b[1] end)
local function lastInstant(bucket)
  local instant = (bucket + 1) * bucketMs - 1
  if last >= 0 and last < instant then instant = last end
  return instant
end
while #live > 0 and nowMs >= lastInstant(live[1][1]) + window do
  stale[#stale + 1] = tostring(live[1][1])
  total = total - live[1][2]
  table.remove(live, 1)
end
if #stale > 0 then redis.call('HDEL', KEYS[1], unpack(stale)) end
local allowed = 0
local needed = total - limit + 1
if total < limit then
  allowed = 1
  needed = 1
  total = total + 1
  last = nowMs
  redis.call('HINCRBY', KEYS[1], current, 1)
  redis.call('HSET', KEYS[1], '-1', nowMs)
  redis.call('PEXPIRE', KEYS[1], ttl)
  if #live > 0 and live[#live][1] == current then
    live[#live][2] = live[#live][2] + 1
  else
    live[#live + 1] = { current, 1 }
  end
end
local wait = window
local freed = 0
for i = 1, #live do
  freed = freed + live[i][2]
  if freed >= needed then
    wait = lastInstant(live[i][1]) + window - nowMs
    break
  end
end
if wait < 0 then wait = 0 end
return { allowed, total, wait }
`;

/**
 * KEYS[1] the client's hash; ARGV count, bucket ms, ttl ms. Adds `count` requests to the
 * current bucket (re-seeding an emptied Redis with what a replica counted locally).
 */
const SEED_SCRIPT = `
local time = redis.call('TIME')
local nowMs = tonumber(time[1]) * 1000 + math.floor(tonumber(time[2]) / 1000)
redis.call('HINCRBY', KEYS[1], math.floor(nowMs / tonumber(ARGV[2])), tonumber(ARGV[1]))
redis.call('PEXPIRE', KEYS[1], tonumber(ARGV[3]))
return 1
`;

type SeedCommand = (key: string, count: number, bucketMs: number, ttlMs: number) => Promise<number>;

type ConsumeCommand = (key: string, limit: number, bucketMs: number, ring: number, ttlMs: number, windowMs: number, ...now: number[]) => Promise<[number, number, number]>;

export interface RedisRateLimitOptions {
  readonly client: Redis;
  readonly keys: RedisKeys;
  /** Limiter name, part of the key (`ip`, `key`, `authfail`). */
  readonly limiter: string;
  readonly windowMs: number;
  /** Tests only: a clock (ms) used instead of Redis TIME, so time can be simulated. */
  readonly now?: () => number;
}

/** The Redis implementation of {@link RateLimitStore}. Throws when Redis fails (see SharedRateLimitStore). */
export class RedisRateLimitStore implements RateLimitStore {
  readonly windowMs: number;
  readonly #client: Redis & { wardenConsume?: ConsumeCommand; wardenSeed?: SeedCommand };
  readonly #keys: RedisKeys;
  readonly #limiter: string;
  readonly #bucketMs: number;
  readonly #ring: number;
  readonly #ttlMs: number;
  readonly #now: (() => number) | undefined;

  constructor(options: RedisRateLimitOptions) {
    this.windowMs = options.windowMs;
    this.#client = options.client;
    this.#keys = options.keys;
    this.#limiter = options.limiter;
    ({ bucketMs: this.#bucketMs, ring: this.#ring } = windowGeometry(options.windowMs));
    this.#ttlMs = options.windowMs + 2 * this.#bucketMs;
    this.#now = options.now;
    // defineCommand sends EVALSHA and falls back to EVAL once if the script is not cached.
    if (this.#client.wardenConsume === undefined) this.#client.defineCommand('wardenConsume', { numberOfKeys: 1, lua: CONSUME_SCRIPT });
    if (this.#client.wardenSeed === undefined) this.#client.defineCommand('wardenSeed', { numberOfKeys: 1, lua: SEED_SCRIPT });
  }

  /** Not tracked centrally: Redis expires idle clients itself. */
  get size(): number {
    return -1;
  }

  async consume(key: string, limit: number): Promise<RateLimitDecision> {
    const client = this.#client as Redis & { wardenConsume: ConsumeCommand };
    const redisKey = this.#keys.rateLimit(this.#limiter, key);
    // Production uses Redis TIME; only tests pass a simulated clock (no array spread per request).
    const [allowed, total, wait] =
      this.#now === undefined
        ? await client.wardenConsume(redisKey, limit, this.#bucketMs, this.#ring, this.#ttlMs, this.windowMs)
        : await client.wardenConsume(redisKey, limit, this.#bucketMs, this.#ring, this.#ttlMs, this.windowMs, Math.floor(this.#now()));
    return allowed === 1 ? { allowed: true, limit, remaining: Math.max(0, limit - total), resetMs: wait } : { allowed: false, limit, remaining: 0, resetMs: wait };
  }

  /**
   * Adds `count` requests to `key`'s current bucket: conservative (they stay counted a whole
   * window from now, however old they were).
   */
  async seed(key: string, count: number): Promise<void> {
    const client = this.#client as Redis & { wardenSeed: SeedCommand };
    await client.wardenSeed(this.#keys.rateLimit(this.#limiter, key), count, this.#bucketMs, this.#ttlMs);
  }

  async reset(key: string): Promise<void> {
    await this.#client.del(this.#keys.rateLimit(this.#limiter, key));
  }

  close(): void {}
}

/**
 * @module store/redis/event-store
 * Recent SSE events in Redis, so a client can resume a stream on another replica: one list
 * per stream holding its last events (`<seq>\n<json>`), within byte budgets counted in UTF-8
 * bytes by one Lua script per append: per stream, per principal (over all its streams) and in
 * all (for every replica together), oldest events evicted first (a stream's oldest events, then
 * the least recently active streams). The accounting (a sorted set of streams by activity, their
 * sizes and owners, bytes per principal, the total) expires with the streams, `ttlMs` after the
 * last append; every key written has a TTL. Events over 256 KiB (or over the per-stream budget)
 * stay local. Appends are never awaited by the request path. Every item is sealed with the
 * shared secret and bound to its stream's key: an item pushed by anyone else is skipped on
 * replay, and sequence numbers must increase, so a copied item is not replayed twice.
 */

import type { Redis } from 'ioredis';
import { DEFAULT_PRINCIPAL_BYTES, DEFAULT_STREAM_BYTES, DEFAULT_TOTAL_BYTES, utf8Bytes, type EventByteBudgets } from '../byte-budget.js';
import type { EventStore, StoredEvent, StoredEvents } from '../types.js';
import type { RedisKeys } from './keys.js';
import type { RecordSeal } from './sealed-records.js';

const END_MARKER = 'end';
/** Events larger than this (UTF-8 bytes) are kept only by the replica that produced them. */
const MAX_SHARED_EVENT = 256 * 1024;

/**
 * KEYS: 1 stream index (zset stream → last activity ms), 2 sizes (hash stream → bytes),
 * 3 owners (hash stream → principal), 4 principal bytes (hash), 5 total bytes (string),
 * 6 this principal's streams (zset).
 * ARGV: 1 stream key prefix, 2 stream id, 3 item, 4 max events, 5 max stream bytes,
 * 6 max principal bytes, 7 max total bytes, 8 ttl ms, 9 principal, 10 principal-streams prefix.
 * Returns the total bytes held after the append.
 */
const APPEND_SCRIPT = `
local time = redis.call('TIME')
local now = tonumber(time[1]) * 1000 + math.floor(tonumber(time[2]) / 1000)
local pfx, sid, item = ARGV[1], ARGV[2], ARGV[3]
local keep, maxStream, maxPrincipal, maxTotal, ttl = tonumber(ARGV[4]), tonumber(ARGV[5]), tonumber(ARGV[6]), tonumber(ARGV[7]), tonumber(ARGV[8])
local ppfx = ARGV[10]
local function forget(s)
  local size = tonumber(redis.call('HGET', KEYS[2], s) or '0')
  local o = redis.call('HGET', KEYS[3], s)
  redis.call('DEL', pfx .. s)
  redis.call('ZREM', KEYS[1], s)
  redis.call('HDEL', KEYS[2], s)
  redis.call('HDEL', KEYS[3], s)
  if o then
    if tonumber(redis.call('HINCRBY', KEYS[4], o, -size)) <= 0 then redis.call('HDEL', KEYS[4], o) end
    redis.call('ZREM', ppfx .. o, s)
  end
  redis.call('DECRBY', KEYS[5], size)
end
local function popOldest(key, s, o)
  local dropped = redis.call('LPOP', key)
  if not dropped then return 0 end
  local n = string.len(dropped)
  redis.call('HINCRBY', KEYS[2], s, -n)
  redis.call('HINCRBY', KEYS[4], o, -n)
  redis.call('DECRBY', KEYS[5], n)
  return n
end
for _, s in ipairs(redis.call('ZRANGEBYSCORE', KEYS[1], '-inf', now - ttl, 'LIMIT', 0, 64)) do forget(s) end
local owner = redis.call('HGET', KEYS[3], sid)
if not owner then
  owner = ARGV[9]
  redis.call('HSET', KEYS[3], sid, owner)
end
local key = pfx .. sid
local ownerStreams = ppfx .. owner
local bytes = string.len(item)
redis.call('RPUSH', key, item)
local size = tonumber(redis.call('HINCRBY', KEYS[2], sid, bytes))
redis.call('HINCRBY', KEYS[4], owner, bytes)
redis.call('INCRBY', KEYS[5], bytes)
redis.call('ZADD', KEYS[1], now, sid)
redis.call('ZADD', ownerStreams, now, sid)
local length = redis.call('LLEN', key)
while length > 1 and (length > keep or size > maxStream) do
  size = size - popOldest(key, sid, owner)
  length = length - 1
end
while tonumber(redis.call('HGET', KEYS[4], owner) or '0') > maxPrincipal do
  local oldest = redis.call('ZRANGE', ownerStreams, 0, 0)[1]
  if oldest == nil then break end
  if oldest == sid then
    if redis.call('LLEN', key) <= 1 then break end
    popOldest(key, sid, owner)
  else
    forget(oldest)
    -- forget() follows the owners hash; remove the entry here too, so a stream the owners hash
    -- does not name (edited by someone else) cannot make this loop run forever.
    redis.call('ZREM', ownerStreams, oldest)
  end
end
while tonumber(redis.call('GET', KEYS[5]) or '0') > maxTotal do
  local oldest = redis.call('ZRANGE', KEYS[1], 0, 0)[1]
  if oldest == nil or oldest == sid then break end
  forget(oldest)
end
redis.call('PEXPIRE', key, ttl)
for i = 1, 6 do redis.call('PEXPIRE', KEYS[i], ttl) end
return tonumber(redis.call('GET', KEYS[5]) or '0')
`;

type AppendCommand = (...args: Array<string | number>) => Promise<number>;

export interface RedisEventStoreOptions extends EventByteBudgets {
  readonly client: Redis;
  readonly keys: RedisKeys;
  /** Seals each stored event with the shared secret (see sealed-records). */
  readonly seal: RecordSeal;
  readonly maxEvents?: number;
  readonly ttlMs?: number;
  readonly onError?: (error: unknown) => void;
}

export class RedisEventStore implements EventStore {
  readonly #client: Redis & { wardenAppendEvent?: AppendCommand };
  readonly #keys: RedisKeys;
  readonly #maxEvents: number;
  readonly #ttlMs: number;
  readonly #maxStreamBytes: number;
  readonly #maxPrincipalBytes: number;
  readonly #maxBytes: number;
  readonly #ownerOf: (streamId: string) => string | undefined;
  readonly #onError: (error: unknown) => void;
  readonly #seal: RecordSeal;

  constructor(options: RedisEventStoreOptions) {
    this.#client = options.client;
    this.#keys = options.keys;
    this.#seal = options.seal;
    this.#maxEvents = options.maxEvents ?? 64;
    this.#ttlMs = options.ttlMs ?? 5 * 60_000;
    this.#maxStreamBytes = options.maxStreamBytes ?? DEFAULT_STREAM_BYTES;
    this.#maxPrincipalBytes = options.maxPrincipalBytes ?? DEFAULT_PRINCIPAL_BYTES;
    this.#maxBytes = options.maxBytes ?? DEFAULT_TOTAL_BYTES;
    this.#ownerOf = options.ownerOf ?? (() => undefined);
    this.#onError = options.onError ?? (() => undefined);
    if (this.#client.wardenAppendEvent === undefined) this.#client.defineCommand('wardenAppendEvent', { numberOfKeys: 6, lua: APPEND_SCRIPT });
  }

  append(streamId: string, seq: number, data: string): void {
    // Large events are not shared: another replica's replay would cost a Redis round trip per MB.
    const bytes = utf8Bytes(data);
    if (bytes > MAX_SHARED_EVENT || bytes > this.#maxStreamBytes) return;
    this.#push(streamId, `${seq}\n${data}`, this.#maxEvents);
  }

  end(streamId: string): void {
    this.#push(streamId, END_MARKER, this.#maxEvents + 1);
  }

  async replay(streamId: string, afterSeq: number): Promise<StoredEvents | undefined> {
    const key = this.#keys.stream(streamId);
    const items = await this.#client.lrange(key, 0, -1);
    if (items.length === 0) return undefined;
    const events: StoredEvent[] = [];
    let ended = false;
    let last = afterSeq;
    for (const sealed of items) {
      const item = this.#seal.open('event', key, sealed);
      if (item === undefined) continue;
      if (item === END_MARKER) {
        ended = true;
        continue;
      }
      const newline = item.indexOf('\n');
      const seq = Number(item.slice(0, newline));
      if (!Number.isSafeInteger(seq) || seq <= last) continue;
      last = seq;
      events.push({ seq, data: item.slice(newline + 1) });
    }
    return { events, ended };
  }

  #push(streamId: string, item: string, keep: number): void {
    const keys = this.#keys;
    const owner = this.#ownerOf(streamId) ?? '';
    const client = this.#client as Redis & { wardenAppendEvent: AppendCommand };
    client
      .wardenAppendEvent(
        keys.streamIndex,
        keys.streamSizes,
        keys.streamOwners,
        keys.principalBytes,
        keys.streamBytes,
        keys.principalStreams(owner),
        keys.stream(''),
        streamId,
        // Sealed and bound to the stream's key: an item pushed by anyone else is skipped on replay.
        this.#seal.seal(keys.stream(streamId), item),
        keep,
        this.#maxStreamBytes,
        this.#maxPrincipalBytes,
        this.#maxBytes,
        this.#ttlMs,
        owner,
        keys.principalStreams(''),
      )
      .catch((error: unknown) => this.#onError(error));
  }
}

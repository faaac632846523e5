/**
 * The Redis event store against a Redis writer without the shared secret: poisoned accounting
 * keys (fake streams in a principal's set, counters edited) may cost stored events (a denial of
 * service the README's trust model names) but must never hang Redis in the append script, which
 * would stop every replica and every other user of that Redis (a script that wrote cannot be
 * killed with SCRIPT KILL).
 */

import { Redis } from 'ioredis';
import { afterEach, describe, expect, it } from 'vitest';
import { RedisEventStore } from '../../src/store/redis/event-store.js';
import { redisKeys } from '../../src/store/redis/keys.js';
import { startRedis, testSeal, type TestRedis } from '../helpers/redis.js';

let redis: TestRedis | undefined;
const clients: Redis[] = [];

afterEach(async () => {
  for (const client of clients.splice(0)) client.disconnect();
  // SIGKILL: a Redis stuck in a script that wrote cannot be stopped otherwise.
  await redis?.kill();
  redis = undefined;
});

async function connect(url: string): Promise<Redis> {
  const client = new Redis(url, { maxRetriesPerRequest: 1, commandTimeout: 2_000 });
  clients.push(client);
  await client.ping();
  return client;
}

describe('Redis event store: poisoned accounting keys', () => {
  it('a fake stream in a principal\u2019s set with an inflated byte count does not hang Redis', async () => {
    redis = await startRedis();
    const writer = await connect(redis.url);
    const observer = await connect(redis.url);
    // Answer BUSY after 200 ms of script rather than 5 s, so a hang shows quickly.
    await writer.config('SET', 'busy-reply-threshold', '200');
    const keys = redisKeys('poison:');
    const errors: unknown[] = [];
    const owners = new Map([['victim/1', 'victim'], ['bystander/1', 'bystander']]);
    const store = new RedisEventStore({ client: writer, seal: testSeal(), keys, ownerOf: (id) => owners.get(id), onError: (error) => errors.push(error) });
    store.append('bystander/1', 1, '{"n":1}');
    store.append('victim/1', 1, '{"n":1}');
    await writer.ping();

    // The Redis writer: a stream the owners hash does not name, first in the victim's set, and a
    // byte count over the budget.
    await observer.zadd(keys.principalStreams('victim'), 0, 'ghost');
    await observer.hset(keys.principalBytes, 'victim', String(10 ** 15));

    store.append('victim/1', 2, '{"n":2}');
    await new Promise((resolve) => setTimeout(resolve, 500));
    // Redis still answers (a script looping forever makes every other command fail with BUSY).
    expect(await observer.ping()).toBe('PONG');
    expect(await writer.ping()).toBe('PONG');
    // The other principal's events are untouched; the victim's newest event is kept.
    expect((await store.replay('bystander/1', 0))?.events.map((event) => event.seq)).toEqual([1]);
    expect((await store.replay('victim/1', 0))?.events.at(-1)?.seq).toBe(2);
    expect(errors).toEqual([]);
  }, 15_000);
});

/**
 * The EventBus contract (event-bus.contract.ts) against the single-process bus and against
 * two replicas' Redis buses on a real Redis (each with its own connections and codec, as two
 * replicas have).
 */

import { Redis } from 'ioredis';
import { afterAll, beforeAll } from 'vitest';
import { SharedSecret } from '../../src/security/shared-secret.js';
import { LocalEventBus } from '../../src/store/memory/event-bus.js';
import { RedisEventBus } from '../../src/store/redis/event-bus.js';
import { redisKeys, type RedisKeys } from '../../src/store/redis/keys.js';
import { BusCodec } from '../../src/store/redis/signed-bus.js';
import type { EventBus } from '../../src/store/types.js';
import { TEST_SHARED_SECRET, startRedis, type TestRedis } from '../helpers/redis.js';
import { eventBusContract } from './event-bus.contract.js';

eventBusContract('LocalEventBus', async () => {
  let errors = 0;
  const bus = new LocalEventBus({ onHandlerError: () => errors++ });
  return { publisher: bus, subscriber: bus, handlerErrors: () => errors, close: () => bus.close() };
});

let redis: TestRedis;
beforeAll(async () => {
  redis = await startRedis();
});
afterAll(async () => {
  await redis?.stop();
});

let harnesses = 0;

/** Publishes probes until both buses received the same one: both are subscribed from then on. */
async function subscribed(publisher: EventBus, buses: readonly EventBus[]): Promise<void> {
  const seen = buses.map(() => new Set<string>());
  buses.forEach((bus, index) => bus.onMessage((message) => message.type === 'session_closed' && seen[index]?.add(message.sessionId)));
  for (let probe = 0; probe < 100; probe++) {
    const id = `probe-${probe}`;
    await publisher.publish({ type: 'session_closed', origin: 'probe', sessionId: id });
    for (let wait = 0; wait < 10; wait++) {
      if (seen.every((ids) => ids.has(id))) return;
      await new Promise((resolve) => setTimeout(resolve, 5));
    }
  }
  throw new Error('the Redis buses never subscribed');
}

eventBusContract('RedisEventBus (two replicas)', async () => {
  const keys: RedisKeys = redisKeys(`bus-contract-${++harnesses}:`);
  const connections: Redis[] = [];
  let errors = 0;
  const replica = (): RedisEventBus => {
    const [client, subscriber] = [new Redis(redis.url), new Redis(redis.url)];
    connections.push(client, subscriber);
    const codec = new BusCodec({ secret: new SharedSecret({ current: TEST_SHARED_SECRET }), channel: keys.events });
    return new RedisEventBus({ client, subscriber, keys, codec, onDrop: (reason) => reason === 'handler_error' && errors++ });
  };
  const publisher = replica();
  const subscriber = replica();
  const close = async (): Promise<void> => {
    await publisher.close();
    await subscriber.close();
    for (const connection of connections) connection.disconnect();
  };
  try {
    await subscribed(publisher, [publisher, subscriber]);
  } catch (error) {
    await close();
    throw error;
  }
  return { publisher, subscriber, handlerErrors: () => errors, close };
});

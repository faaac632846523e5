/**
 * The Redis event bus on a real Redis: a handler that throws is isolated (the others still run,
 * the failure is reported, the process carries on), and what does not verify never reaches a
 * handler.
 */

import { Redis } from 'ioredis';
import { describe, expect, it } from 'vitest';
import { SharedSecret } from '../../src/security/shared-secret.js';
import { RedisEventBus } from '../../src/store/redis/event-bus.js';
import { redisKeys } from '../../src/store/redis/keys.js';
import { BusCodec, type BusDropReason } from '../../src/store/redis/signed-bus.js';
import type { BusMessage } from '../../src/store/types.js';
import { TEST_SHARED_SECRET, useRedis } from '../helpers/redis.js';
import { sleep, until } from '../helpers/wait.js';

const redis = useRedis();

describe('RedisEventBus', () => {
  it('isolates a handler that throws and drops what does not verify', async () => {
    const keys = redisKeys('bus:');
    const codec = new BusCodec({ secret: new SharedSecret({ current: TEST_SHARED_SECRET }), channel: keys.events });
    const drops: BusDropReason[] = [];
    const bus = new RedisEventBus({ client: redis.connect(), subscriber: redis.connect(), keys, codec, onDrop: (reason) => drops.push(reason) });
    const received: BusMessage[] = [];
    bus.onMessage(() => {
      throw new TypeError('restrictions is not iterable');
    });
    bus.onMessage((message) => received.push(message));
    await sleep(100);
    const raw = redis.connect();
    await raw.publish(keys.events, '{"type":"keys_restricted","origin":"x","restrictions":null}');
    await bus.publish({ type: 'session_closed', origin: 'replica-a', sessionId: 's-1' });
    await until(() => received.length > 0, 1000, 25);
    expect(received).toEqual([{ type: 'session_closed', origin: 'replica-a', sessionId: 's-1' }]);
    expect(drops).toEqual(['malformed', 'handler_error']);
    await bus.close();
  });
});

/**
 * A private redis-server for tests: started on a free loopback port with no persistence and
 * DEBUG allowed from loopback (DEBUG SLEEP makes it slow), stopped afterwards; it can be
 * killed, restarted empty, paused and resumed. Tests that need Redis fail loudly when the binary is missing (CI
 * installs the `redis-server` package). `useRedis()` gives a test file a started server and a
 * connected client, cleaned up whatever happens.
 */

import { spawn, type ChildProcess } from 'node:child_process';
import { freePort } from './port.js';
import { Redis, type RedisOptions } from 'ioredis';
import { afterAll, beforeAll } from 'vitest';
import { SharedSecret } from '../../src/security/shared-secret.js';
import { RecordSeal } from '../../src/store/redis/sealed-records.js';

/** The shared secret test replicas hold (Redis never sees it). */
export const TEST_SHARED_SECRET = 'test-shared-secret-0123456789abcdefghijklmnop';

/** The environment a CLI replica needs besides --redis-url. */
export const SHARED_SECRET_ENV: Readonly<Record<string, string>> = Object.freeze({ MCP_SHARED_SECRET: TEST_SHARED_SECRET });

/** A record seal made with {@link TEST_SHARED_SECRET}, for store tests. */
export function testSeal(onReject?: ConstructorParameters<typeof RecordSeal>[1]): RecordSeal {
  return new RecordSeal(new SharedSecret({ current: TEST_SHARED_SECRET }), onReject);
}

export interface TestRedis {
  readonly url: string;
  readonly port: number;
  /** Kills the server (SIGKILL: as if it crashed). */
  kill(): Promise<void>;
  /** Starts it again on the same port (empty: no persistence). */
  restart(): Promise<void>;
  /** Freezes the server (SIGSTOP): connections stay open, nothing answers. */
  pause(): void;
  /** Thaws it (SIGCONT): queued commands are answered. */
  resume(): void;
  stop(): Promise<void>;
}

function launch(port: number): Promise<ChildProcess> {
  // DEBUG (SLEEP) only from loopback: tests use it to make Redis slow.
  const child = spawn('redis-server', ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--protected-mode', 'yes', '--enable-debug-command', 'local'], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  return new Promise((resolve, reject) => {
    let output = '';
    const timer = setTimeout(() => reject(new Error(`redis-server did not start: ${output}`)), 10_000);
    child.stdout?.on('data', (chunk: Buffer) => {
      output += chunk.toString();
      if (output.includes('Ready to accept connections')) {
        clearTimeout(timer);
        resolve(child);
      }
    });
    child.on('error', (error) => {
      clearTimeout(timer);
      reject(new Error(`redis-server could not be started (${error.message}); install the redis-server package`));
    });
    child.on('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`redis-server exited with ${code}: ${output}`));
    });
  });
}

function exited(child: ChildProcess): Promise<void> {
  return child.exitCode !== null || child.signalCode !== null ? Promise.resolve() : new Promise((resolve) => child.once('exit', () => resolve()));
}

/** Every Redis started by this test process, killed when it exits (even after a failure). */
const running = new Set<ChildProcess>();
process.once('exit', () => {
  for (const child of running) child.kill('SIGKILL');
});

export async function startRedis(): Promise<TestRedis> {
  const port = await freePort();
  let child = await launch(port);
  running.add(child);
  return {
    url: `redis://127.0.0.1:${port}`,
    port,
    async kill() {
      child.kill('SIGKILL');
      await exited(child);
    },
    async restart() {
      running.delete(child);
      child = await launch(port);
      running.add(child);
    },
    pause() {
      child.kill('SIGSTOP');
    },
    resume() {
      child.kill('SIGCONT');
    },
    async stop() {
      // A paused server would never handle SIGTERM.
      child.kill('SIGCONT');
      child.kill('SIGTERM');
      await exited(child);
      running.delete(child);
    },
  };
}

export interface RedisFixture {
  /** The private redis-server (started before the file's tests, stopped after them). */
  readonly server: TestRedis;
  /** A client connected to it, disconnected after the file's tests. */
  readonly client: Redis;
  /** Another client to the same server (a second replica, a subscriber), also disconnected afterwards. */
  connect(options?: RedisOptions): Redis;
}

/**
 * A started redis-server and a connected client for every test in the calling file
 * (`beforeAll`/`afterAll`): clients are disconnected and the server stopped even when a test
 * fails. Read `server`/`client` inside tests or hooks, not at the file's top level.
 *
 * @example
 * const redis = useRedis();
 * it('counts', async () => { await redis.client.incr('n'); });
 */
export function useRedis(): RedisFixture {
  let server: TestRedis | undefined;
  let client: Redis | undefined;
  const clients: Redis[] = [];
  const started = <T>(value: T | undefined): T => {
    if (value === undefined) throw new Error('useRedis(): read the fixture inside a test or hook');
    return value;
  };
  const connect = (options: RedisOptions = {}): Redis => {
    const next = new Redis(started(server).url, options);
    clients.push(next);
    return next;
  };
  beforeAll(async () => {
    server = await startRedis();
    client = connect();
  });
  afterAll(async () => {
    for (const each of clients.splice(0)) each.disconnect();
    await server?.stop();
  });
  return {
    get server() {
      return started(server);
    },
    get client() {
      return started(client);
    },
    connect,
  };
}

/**
 * @module bench/micro
 * Micro-benchmarks and memory figures, run by run.mjs under `node --expose-gc` in a child of
 * its own (so nothing the HTTP rounds allocated shows up here). Also runnable alone:
 *
 *   node --expose-gc bench/micro.mjs [--quick]
 *
 * Timings (µs per operation after a warm-up; best and median of 5 batches): KeyRing.verify with a valid and an invalid key,
 * MemoryRateLimitStore.consume on a warm key, one request log line through our logger factory
 * to /dev/null. Memory: rate-limiter bytes per tracked client (10k and 100k distinct IPv4
 * keys, the whole store: Map, key strings and typed arrays) and bytes per idle MCP session of
 * a real mcp-warden child (1k and 10k sessions, heapUsed + arrayBuffers after a forced gc).
 * Engine (bench/lib/engine-micro.mjs): one 2026-07-28 tools/call through the v2 SDK's
 * per-request handler vs through one long-lived instance, µs/op and JS heap bytes allocated/op.
 */

import { randomBytes } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import pino from 'pino';
import { KeyRing } from '../dist/security/api-keys.js';
import { MemoryRateLimitStore } from '../dist/store/memory/rate-limit.js';
import { createLogger } from '../dist/observability/logger.js';
import { engineMicro } from './lib/engine-micro.mjs';
import { boundedAgent, openSession } from './lib/mcp-http.mjs';
import { startServer } from './lib/proc.mjs';
import { usPerOp } from './lib/stats.mjs';

const quick = process.argv.includes('--quick');
const SESSION_CONCURRENCY = 64;

if (typeof globalThis.gc !== 'function') {
  console.error('bench/micro.mjs needs --expose-gc (node --expose-gc bench/micro.mjs)');
  process.exit(2);
}

function fullGc() {
  globalThis.gc();
  globalThis.gc();
}

/** heapUsed + arrayBuffers: JS objects plus typed-array backing stores (held outside the heap). */
function heapBytes() {
  const memory = process.memoryUsage();
  return memory.heapUsed + memory.arrayBuffers;
}

const BATCHES = 5;

/**
 * Runs `op` in a loop: a warm-up, then `iterations` timed calls in 5 batches. Returns the best
 * batch's µs/op (interference from other processes only ever adds time) and the median.
 */
function timeOp(op, iterations) {
  let sink = 0;
  for (let i = 0; i < Math.min(iterations, 20_000); i++) sink ^= op(i) ? 1 : 0;
  const perBatch = Math.ceil(iterations / BATCHES);
  const batches = [];
  for (let b = 0; b < BATCHES; b++) {
    const start = process.hrtime.bigint();
    for (let i = 0; i < perBatch; i++) sink ^= op(i) ? 1 : 0;
    batches.push(usPerOp(process.hrtime.bigint() - start, perBatch));
  }
  if (sink === 2) console.log('unreachable'); // keeps the results observable
  batches.sort((a, b) => a - b);
  return { best: batches[0], median: batches[Math.floor(BATCHES / 2)] };
}

function benchAuth(iterations) {
  const key = randomBytes(32).toString('base64url');
  const wrong = randomBytes(32).toString('base64url');
  const ring = KeyRing.fromKeys([key, randomBytes(32).toString('base64url')]);
  // verify() answers a Principal or undefined, or (newer) a verdict { ok, principal | reason }.
  const accepted = (verdict) => verdict !== undefined && verdict.ok !== false;
  if (!accepted(ring.verify(key)) || accepted(ring.verify(wrong))) throw new Error('KeyRing.verify sanity check failed');
  return {
    validKeyUs: timeOp(() => accepted(ring.verify(key)), iterations),
    invalidKeyUs: timeOp(() => accepted(ring.verify(wrong)), iterations),
  };
}

function benchRateLimit(iterations) {
  // The benchmark server's configuration (1,000,000 per 10 s: 32-bit counters) and the default
  // (100 per 60 s: 16-bit counters, here with a limit that is never reached).
  const wide = new MemoryRateLimitStore({ windowMs: 10_000, maxLimit: 1_000_000, sweep: false });
  const narrow = new MemoryRateLimitStore({ windowMs: 60_000, maxLimit: 100, sweep: false });
  const warm = '127.0.0.1';
  wide.consume(warm, 1_000_000);
  narrow.consume(warm, 0xffffffff);
  const result = {
    warmKeyUs: timeOp(() => wide.consume(warm, 0xffffffff).allowed, iterations),
    warmKeyDefaultWindowUs: timeOp(() => narrow.consume(warm, 0xffffffff).allowed, iterations),
  };
  wide.close();
  narrow.close();
  return result;
}

async function benchLogLine(iterations) {
  const logger = createLogger({ level: 'info', destination: pino.destination({ dest: '/dev/null', sync: false }) });
  // Fastify hands each request a child logger bound to its reqId; the line is request-log.ts's shape.
  const child = logger.child({ reqId: 'k3x9qa-1f' });
  const line = (i) => ({
    method: 'POST',
    path: '/mcp',
    mcpMethod: 'tools/call',
    tool: 'echo',
    status: 200,
    durationMs: Math.round((0.5 + (i % 100) / 100) * 100) / 100,
    ip: '127.0.0.1',
    auth: 'ok',
    keyId: 'key_1a2b3c4d5e6f',
    failure: undefined,
  });
  // Batches yield to the event loop so the asynchronous destination really writes (as it does
  // between requests in the server); the yields are inside the timed span.
  const batch = 1_000;
  const once = async (fn, total) => {
    const start = process.hrtime.bigint();
    for (let done = 0; done < total; done += batch) {
      for (let i = 0; i < batch; i++) fn(done + i);
      await new Promise((resolve) => setImmediate(resolve));
    }
    return usPerOp(process.hrtime.bigint() - start, total);
  };
  const run = async (fn, total) => {
    const runs = [];
    for (let r = 0; r < BATCHES; r++) runs.push(await once(fn, Math.ceil(total / BATCHES)));
    runs.sort((a, b) => a - b);
    return { best: runs[0], median: runs[Math.floor(BATCHES / 2)] };
  };
  await once((i) => child.info(line(i), 'request'), Math.min(iterations, 20_000)); // warm-up
  const lineUs = await run((i) => child.info(line(i), 'request'), iterations);
  const lineWithChildUs = await run((i) => logger.child({ reqId: `k3x9qa-${i.toString(36)}` }).info(line(i), 'request'), iterations);
  logger.flush();
  return { lineUs, lineWithChildLoggerUs: lineWithChildUs };
}

function rateLimitMemory(clients) {
  fullGc();
  const before = heapBytes();
  let store = new MemoryRateLimitStore({ windowMs: 60_000, maxLimit: 100, maxClients: 200_000, sweep: false });
  for (let i = 0; i < clients; i++) {
    // Distinct IPv4 keys, built as the socket layer hands them over (flat strings).
    const key = `10.${(i >>> 16) & 0xff}.${(i >>> 8) & 0xff}.${i & 0xff}`;
    store.consume(key, 100);
  }
  if (store.size !== clients) throw new Error(`rate-limit store tracks ${store.size}, expected ${clients}`);
  fullGc();
  const after = heapBytes();
  const arrayBytes = store.arrayBytes;
  store.close();
  store = undefined;
  return {
    clients,
    bytesPerClient: Math.round((after - before) / clients),
    totalBytes: after - before,
    typedArrayBytes: arrayBytes,
    typedArrayBytesPerClient: Math.round(arrayBytes / clients),
  };
}

async function openSessions(server, key, count) {
  const agent = boundedAgent(SESSION_CONCURRENCY);
  let next = 0;
  const worker = async () => {
    while (next < count) {
      next++;
      await openSession(server.mcpUrl, key, agent);
    }
  };
  await Promise.all(Array.from({ length: Math.min(SESSION_CONCURRENCY, count) }, worker));
  agent.destroy();
}

async function sessionMemory(counts) {
  const key = randomBytes(32).toString('base64url');
  const largest = Math.max(...counts);
  const server = await startServer({
    name: 'warden-sessions',
    script: fileURLToPath(new URL('./servers/warden.mjs', import.meta.url)),
    args: ['--security', 'on', '--max-sessions', String(largest + 100)],
    execArgv: ['--expose-gc'],
    env: { BENCH_API_KEY: key },
  });
  try {
    // Baseline after one session, so lazily loaded code and first-use caches are not counted.
    await openSessions(server, key, 1);
    const base = await server.memory({ gc: true });
    if (!base.gcAvailable) throw new Error('the session-memory child has no gc');
    const rows = [];
    let open = 1;
    for (const count of [...counts].sort((a, b) => a - b)) {
      await openSessions(server, key, count - (open - 1));
      open = count + 1;
      // Let sockets close and timers settle before measuring.
      await new Promise((resolve) => setTimeout(resolve, 500));
      const now = await server.memory({ gc: true });
      const heapDelta = now.heapUsed + now.arrayBuffers - (base.heapUsed + base.arrayBuffers);
      rows.push({
        sessions: count,
        bytesPerSession: Math.round(heapDelta / count),
        heapDeltaBytes: heapDelta,
        rssDeltaBytes: now.rss - base.rss,
        rssPerSessionBytes: Math.round((now.rss - base.rss) / count),
        rssBytes: now.rss,
      });
    }
    return { baselineHeapBytes: base.heapUsed + base.arrayBuffers, baselineRssBytes: base.rss, rows };
  } finally {
    await server.stop();
  }
}

/** The median (by bytes per client) of a few repetitions: one gc'd heap reading is noisy. */
function rateLimitMemoryMedian(clients, repetitions = 3) {
  const runs = Array.from({ length: repetitions }, () => rateLimitMemory(clients)).sort((a, b) => a.bytesPerClient - b.bytesPerClient);
  return { ...runs[Math.floor(repetitions / 2)], repetitions: runs.map((run) => run.bytesPerClient) };
}

const iterations = quick ? 50_000 : 500_000;
// Memory first, on a heap nothing else has touched yet; timings next; the server child last.
const rateLimitMemoryRows = [rateLimitMemoryMedian(10_000), rateLimitMemoryMedian(100_000)];
const results = {
  iterations,
  authCheck: benchAuth(iterations),
  rateLimitCheck: benchRateLimit(quick ? 200_000 : 2_000_000),
  logLine: await benchLogLine(quick ? 20_000 : 200_000),
  rateLimitMemory: rateLimitMemoryRows,
  modernEngine: await engineMicro({ iterations: quick ? 500 : 3_000 }),
  sessionMemory: await sessionMemory(quick ? [200, 1_000] : [1_000, 10_000]),
};

if (typeof process.send === 'function') {
  process.send({ type: 'micro', results });
  process.disconnect();
} else {
  console.log(JSON.stringify(results, null, 2));
}

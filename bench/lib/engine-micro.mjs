/**
 * @module bench/lib/engine-micro
 * Micro-benchmark of the two ways to serve a 2026-07-28 request with the v2 SDK (issue 12,
 * design note §3 "Measure before committing"), without HTTP sockets:
 *  (a) per request, the SDK's own model: `createMcpHandler(factory).fetch(new Request(...))`,
 *      which classifies, calls the factory (a fresh McpServer with the tool registered),
 *      validates the headers and serves through a single-use per-request transport;
 *  (b) one long-lived modern instance, as mcp-warden keeps it: its `ModernEndpoint` (dist/,
 *      the factory called once, `bindModernEra`, the discover self-test at start) serving each
 *      request through its `EngineLink`, after the body is parsed and classified (`classifyEra`)
 *      the way the HTTP layer does; header checks, scope policy and result policy included,
 *      Fastify, sockets and authentication not.
 * Both run the same factory (bench/lib/v2-echo.mjs) on the same request (`modernCall`). Each
 * case is timed sequentially (one request in flight: µs/op is the cost of one request
 * including its microtask hops), and JS heap allocation per op is read from V8's GC profiler.
 */

import { GCProfiler, getHeapStatistics } from 'node:v8';
import { createMcpHandler } from '@modelcontextprotocol/server';
import { classifyEra } from '../../dist/mcp/era.js';
import { DefaultPolicy } from '../../dist/mcp/policy.js';
import { ListenHub } from '../../dist/mcp/transport/listen.js';
import { ModernEndpoint } from '../../dist/mcp/transport/modern.js';
import { parseAccept } from '../../dist/mcp/transport/negotiation.js';
import { ANONYMOUS } from '../../dist/security/identity.js';
import { answerCheck, ECHO_ARGS, modernCall } from './mcp-http.mjs';
import { usPerOp } from './stats.mjs';
import { echoServer } from './v2-echo.mjs';

const BATCHES = 5;

/**
 * JS heap bytes allocated while `run` ran: the heap growth between consecutive GCs (used
 * before each GC minus used after the previous one) plus the growth after the last. Backing
 * stores of Buffers and typed arrays live outside the JS heap and are not counted.
 */
async function allocatedDuring(run) {
  const profiler = new GCProfiler();
  const start = getHeapStatistics().used_heap_size;
  profiler.start();
  await run();
  const end = getHeapStatistics().used_heap_size;
  const { statistics } = profiler.stop();
  let allocated = 0;
  let last = start;
  for (const gc of statistics) {
    allocated += gc.beforeGC.heapStatistics.usedHeapSize - last;
    last = gc.afterGC.heapStatistics.usedHeapSize;
  }
  return { bytes: allocated + (end - last), gcs: statistics.length };
}

/**
 * Times an asynchronous operation: a warm-up, then `iterations` sequential calls in 5
 * batches (best and median µs/op), then one more batch under the GC profiler for bytes/op.
 */
async function timeAsync(op, iterations) {
  const perBatch = Math.ceil(iterations / BATCHES);
  const loop = async (count) => {
    for (let i = 0; i < count; i++) await op();
  };
  await loop(Math.min(perBatch, 500));
  const batches = [];
  for (let b = 0; b < BATCHES; b++) {
    const start = process.hrtime.bigint();
    await loop(perBatch);
    batches.push(usPerOp(process.hrtime.bigint() - start, perBatch));
  }
  batches.sort((a, b) => a - b);
  const allocation = await allocatedDuring(() => loop(perBatch));
  return {
    best: batches[0],
    median: batches[Math.floor(BATCHES / 2)],
    allocatedBytesPerOp: Math.round(allocation.bytes / perBatch),
    gcsPerThousandOps: Math.round((allocation.gcs * 1000) / perBatch),
  };
}

/** (a): the SDK's handler, one web Request per op, the body read to the end. */
async function perRequestCase(iterations) {
  const handler = createMcpHandler(() => echoServer(), { legacy: 'stateless' });
  const call = modernCall('echo', ECHO_ARGS);
  const check = answerCheck('modern');
  const url = 'http://127.0.0.1/mcp';
  let failures = 0;
  const op = async () => {
    const response = await handler.fetch(new Request(url, { method: 'POST', headers: call.headers, body: call.body }));
    const text = await response.text();
    if (response.status !== 200) failures++;
    return text;
  };
  const first = await op();
  if (!check(first)) throw new Error(`createMcpHandler did not answer the echo call: ${first.slice(0, 300)}`);
  try {
    const timing = await timeAsync(op, iterations);
    if (failures > 0) throw new Error(`createMcpHandler answered ${failures} calls with a status other than 200`);
    return timing;
  } finally {
    await handler.close();
  }
}

/** (b): mcp-warden's long-lived modern engine, one request handed over per op. */
async function longLivedCase(iterations) {
  // The listen hub only serves subscriptions/listen (not exercised here); caps as the server's defaults.
  const listen = new ListenHub({ maxStreams: 10_000, maxPerPrincipal: 1000 });
  const endpoint = new ModernEndpoint({ policy: new DefaultPolicy(), build: async () => echoServer(), listen });
  await endpoint.start();
  const call = modernCall('echo', ECHO_ARGS);
  const check = answerCheck('modern');
  const accepts = parseAccept(call.headers.accept);
  let failures = 0;
  const op = async () => {
    const body = JSON.parse(call.body);
    const route = classifyEra({ httpMethod: 'POST', headers: call.headers, body });
    if (route.era !== 'modern') throw new Error(`classifyEra did not find the modern request: ${JSON.stringify(route)}`);
    const request = {
      method: 'POST',
      sessionId: undefined,
      protocolVersion: call.headers['mcp-protocol-version'],
      accept: call.headers.accept,
      contentType: call.headers['content-type'],
      lastEventId: undefined,
      body,
      principal: ANONYMOUS,
      clientIp: '127.0.0.1',
      authInfo: undefined,
      headers: call.headers,
    };
    const answer = await endpoint.handle(request, route, accepts);
    if (answer.kind !== 'body' || answer.status !== 200) {
      failures++;
      return JSON.stringify(answer.kind === 'error' ? { error: answer.error.code } : { kind: answer.kind, status: answer.status });
    }
    return answer.body;
  };
  const first = await op();
  if (!check(first)) throw new Error(`ModernEndpoint did not answer the echo call: ${first.slice(0, 300)}`);
  try {
    const timing = await timeAsync(op, iterations);
    if (failures > 0) throw new Error(`ModernEndpoint answered ${failures} calls with something other than a 200 body`);
    return { label: 'mcp-warden ModernEndpoint', ...timing };
  } finally {
    await endpoint.close();
  }
}

/** Times both engine cases on the same request (see the module comment). */
export async function engineMicro({ iterations }) {
  return { perRequest: await perRequestCase(iterations), longLived: await longLivedCase(iterations) };
}

/**
 * @module bench/lib/load
 * One timed autocannon run against one server: every connection replays one fixed request
 * (the 2025 echo tools/call on its own established session, or the self-contained 2026-07-28
 * one; pipelining 1, so one call in flight per connection and the fixed JSON-RPC id never
 * collides), every response body is checked (`verify`; a failed check counts as a mismatch,
 * never as throughput), latencies are recorded per response at full precision (autocannon's
 * own histogram has 1 ms resolution), and the server's RSS is sampled over IPC while it runs.
 */

import autocannon from 'autocannon';
import { cpuMeter } from './cpu.mjs';
import { Samples } from './stats.mjs';

const RSS_SAMPLE_MS = 250;

/**
 * @param {Pick<import('./proc.mjs').ServerHandle, 'mcpUrl' | 'memory'> & { child: { pid: number }, pids?: () => number[] }} server
 *   `memory()` is sampled for RSS; `pids()`, when given, names every process whose CPU counts as the server's
 * @param {{ body: string, headers: Array<Readonly<Record<string,string>>>, verify: (body: string) => boolean }} workload
 *   the request body, the header sets (connection i uses set i modulo their number: one per
 *   session, or one for all), and the check every response body must pass
 * @param {{ duration: number, connections: number, sampleRss?: boolean }} options
 */
export async function runLoad(server, workload, options) {
  let next = 0;
  const latencies = new Samples();
  /** @type {number[]} */
  const rss = [];
  let sampling = false;
  let timer;
  if (options.sampleRss !== false) {
    timer = setInterval(() => {
      if (sampling) return;
      sampling = true;
      server
        .memory()
        .then((memory) => rss.push(memory.rss))
        .catch(() => {})
        .finally(() => {
          sampling = false;
        });
    }, RSS_SAMPLE_MS);
  }

  // A gateway counts with its children (`pids()`); a plain server is its one process.
  const meter = cpuMeter(server.pids?.() ?? server.child.pid);
  const instance = autocannon({
    url: server.mcpUrl,
    method: 'POST',
    connections: options.connections,
    duration: options.duration,
    pipelining: 1,
    timeout: 10,
    body: workload.body,
    headers: { ...workload.headers[0] },
    verifyBody: workload.verify,
    setupClient(client) {
      // Connection i speaks on session i: a fixed request buffer, no per-request rebuilding.
      client.setHeaders({ ...workload.headers[next++ % workload.headers.length] });
    },
  });
  instance.on('response', (_client, statusCode, _bytes, responseTime) => {
    if (statusCode >= 200 && statusCode < 300) latencies.push(responseTime);
  });
  const result = await instance;
  const cpu = meter.stop();
  if (timer !== undefined) clearInterval(timer);

  const codes = {};
  for (const [code, stat] of Object.entries(result.statusCodeStats ?? {})) codes[code] = stat.count;
  const precise = latencies.percentiles([50, 90, 99, 99.9]);
  return {
    requestsPerSec: result.requests.average,
    requestsTotal: result.requests.total,
    durationSeconds: result.duration,
    latencyMs: {
      p50: precise.p50,
      p90: precise.p90,
      p99: precise.p99,
      'p99.9': precise['p99.9'],
      max: precise.max,
      mean: precise.mean,
      samples: latencies.length,
    },
    autocannonLatencyMs: { p50: result.latency.p50, p99: result.latency.p99, average: result.latency.average, max: result.latency.max },
    non2xx: result.non2xx,
    // 2xx or not, a body that is not the echo result (autocannon `verifyBody`).
    mismatches: result.mismatches,
    errors: result.errors,
    timeouts: result.timeouts,
    resets: result.resets,
    statusCodes: codes,
    throughputBytesPerSec: result.throughput.average,
    cpu: cpu ?? null,
    // Server CPU time per answered request: less sensitive to a busy machine than req/s.
    cpuUsPerRequest: cpu ? Math.round((cpu.serverCores * 1e6) / result.requests.average) : null,
    rssSamples: rss,
    rssPeak: rss.length > 0 ? Math.max(...rss) : NaN,
  };
}

/**
 * @module bench/servers/warden
 * mcp-warden under test, from the built library (../../dist). Built-in tools (default factory),
 * a high rate limit, request log at info to /dev/null through our own logger factory.
 *
 *   node bench/servers/warden.mjs --security on|off [--max-sessions N]
 *
 * `--security off` uses `benchmarkOnlyDisableSecurity` (no rate limit, Host/Origin guard,
 * authentication or request log): the baseline that shows what the layers cost.
 */

import pino from 'pino';
import { createServer } from '../../dist/server.js';
import { createLogger } from '../../dist/observability/logger.js';
import { announceReady, benchKey, childArgs, serveRunnerProtocol } from '../lib/child.mjs';

/**
 * The rate limit used in the benchmark: the largest the config accepts (1,000,000) over a
 * 10 s window, i.e. 100,000 req/s sustained per client IP; far above what one loopback client
 * reaches, so the limiter runs its full admit path on every request and never refuses.
 */
export const BENCH_RATE_LIMIT = 1_000_000;
export const BENCH_RATE_WINDOW_SECONDS = 10;

/**
 * METRICS SWITCH: options merged into the server options to turn Prometheus metrics on. Empty
 * while mcp-warden has no metrics; when its metrics option lands, put it here (for example
 * `{ metrics: true }`) if they are not on by default. The state actually served is read back
 * from the configuration summary of GET /api/status (`config.metrics`) and printed by the
 * runner: "not yet implemented" while the summary has no such field.
 */
export const METRICS_OPTIONS = Object.freeze({});

/** What the running server says about its metrics (one authenticated /api/status request). */
async function metricsState(baseUrl, key) {
  try {
    const response = await fetch(`${baseUrl}/api/status`, { headers: { authorization: `Bearer ${key}` } });
    if (!response.ok) return `unknown (/api/status answered ${response.status})`;
    const status = await response.json();
    const metrics = status?.config?.metrics;
    if (metrics === undefined) return 'not yet implemented';
    if (metrics === false) return 'off';
    return 'on';
  } catch (error) {
    return `unknown (${error.message})`;
  }
}

const args = childArgs();
const security = args.security !== 'off';
const maxSessions = args['max-sessions'] === undefined ? 10_000 : Number(args['max-sessions']);
// `--redis`: shared state in the runner's private Redis (BENCH_REDIS_URL).
const redisUrl = args.redis === undefined ? undefined : process.env.BENCH_REDIS_URL;
if (args.redis !== undefined && redisUrl === undefined) throw new Error('--redis needs BENCH_REDIS_URL');

// Mirror of the production logger (src/observability/logger.ts): same formatter, redaction and
// asynchronous destination, only pointed at /dev/null instead of stdout.
const logger = createLogger({ level: 'info', destination: pino.destination({ dest: '/dev/null', sync: false }) });

const warden = await createServer({
  options: {
    apiKeys: [benchKey()],
    host: '127.0.0.1',
    port: 0,
    rateLimit: BENCH_RATE_LIMIT,
    rateWindow: BENCH_RATE_WINDOW_SECONDS,
    logLevel: 'info',
    monitoring: true,
    maxSessions,
    // The session-memory measurement opens all its sessions with the one bench key.
    maxSessionsPerKey: maxSessions,
    // Replicas sign bus messages and records in Redis with a secret Redis does not hold.
    ...(redisUrl === undefined ? {} : { redisUrl, sharedSecret: 'bench-shared-secret-0123456789abcdefghijkl' }),
    ...METRICS_OPTIONS,
  },
  logger,
  benchmarkOnlyDisableSecurity: !security,
});
const url = await warden.start();
serveRunnerProtocol(() => warden.stop());
announceReady(redisUrl !== undefined ? 'warden-redis' : security ? 'warden-on' : 'warden-off', warden.address().port, {
  security,
  ...(redisUrl === undefined ? {} : { sharedState: 'redis (limits, sessions)' }),
  rateLimit: security ? `${BENCH_RATE_LIMIT}/${BENCH_RATE_WINDOW_SECONDS}s` : 'off',
  requestLog: security ? 'info → /dev/null' : 'off',
  metrics: await metricsState(url, benchKey()),
});

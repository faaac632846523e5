/**
 * @module bench/gateway
 * `npm run bench:gateway`: `tools/call` of server-everything's `echo` through a gateway in front
 * of the same stdio server, side by side in one run, in alternating rounds (issue 13, Must 9):
 *
 *   gw-warden-on       mcp-warden's gateway one-liner (`mcp-warden --env-keys -- node …/server-everything stdio`),
 *                      every security layer on, 2025 sessions, a child per session (the default isolation)
 *   gw-warden-modern   the same command, 2026-07-28 stateless requests (the credential's own child)
 *   gw-warden-shared   the upstream declared `isolation: "shared"` in a config file (one child for all)
 *   gw-supergateway    supergateway (no inbound auth), stdio → Streamable HTTP, `--stateful` (a child per session)
 *   stdio-direct       the floor: N raw stdio clients, each with its own child; and sequential calls
 *                      with a raw client and with the official v2 SDK client
 *
 * Each round measures, per row, throughput with N concurrent connections (autocannon; the
 * direct row: N closed-loop stdio clients) and then the latency of sequential calls on one
 * connection. After the rounds, memory per child session: a fresh gateway, M sessions with one
 * call each, the RSS of the gateway and all its children (/proc) before and after. Prints the
 * tables and target verdicts (reported, not asserted) and writes bench/results/gateway.json.
 *
 *   node bench/gateway.mjs [--duration 5] [--warmup 2] [--rounds 3] [--connections 32]
 *                          [--seq-duration 3] [--sessions 50] [--only gw-warden-on,gw-supergateway]
 *
 * See bench/README.md, "Gateway benchmark".
 */

import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { request as httpRequest } from 'node:http';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { cpuMeter, processTicks, waitForQuiet } from './lib/cpu.mjs';
import { ECHO_ARGUMENTS, ECHO_EXPECTED, echoCalls, GATEWAY_ECHO_TOOL, UPSTREAM_NAME } from './lib/gateway-calls.mjs';
import { freePort, startGateway } from './lib/gateway-proc.mjs';
import { runLoad } from './lib/load.mjs';
import { machineInfo } from './lib/machine.mjs';
import { answerCheck, boundedAgent, echoProblem, MODERN_PROTOCOL_VERSION, openSession, parseAnswer, post, verifyEcho } from './lib/mcp-http.mjs';
import { badResponses, table } from './lib/report.mjs';
import { rssOf } from './lib/proc-tree.mjs';
import { median, medianIndex, Samples } from './lib/stats.mjs';
import { closedLoop, EVERYTHING_ARGV, RawStdioClient, sdkSequential, sdkStdioSequential } from './lib/stdio-direct.mjs';

const here = (path) => fileURLToPath(new URL(path, import.meta.url));
const require = createRequire(import.meta.url);
const SUPERGATEWAY_ENTRY = join(dirname(require.resolve('supergateway/package.json')), 'dist', 'index.js');
const WARDEN_CLI = here('../dist/cli/main.js');

/** Other processes using more than this many cores during a run make it "noisy". */
const NOISY_CORES = 0.2;
/** Linux reports /proc CPU times in USER_HZ ticks, 100 per second on every architecture. */
const USER_HZ = 100;
/** The largest rate limit the configuration accepts, over 10 s: never reached, so every request runs the full admit path. */
const RATE_LIMIT = ['--rate-limit', '1000000', '--rate-window', '10'];
const TARGETS = Object.freeze({ vsSupergateway: 2, addedP50Ms: 1 });

/**
 * The rows, in table order. `era`: how the runner drives a gateway ('legacy' = the 2025 call on
 * one established session per connection; 'modern' = the stateless 2026-07-28 call).
 */
const ROWS = [
  { name: 'gw-warden-on', label: 'mcp-warden, child per session', kind: 'warden', era: 'legacy', sdkLatency: true },
  { name: 'gw-warden-modern', label: 'mcp-warden, 2026-07-28', kind: 'warden', era: 'modern' },
  { name: 'gw-warden-shared', label: 'mcp-warden, shared child', kind: 'warden-shared', era: 'legacy' },
  { name: 'gw-supergateway', label: 'supergateway --stateful', kind: 'supergateway', era: 'legacy' },
  { name: 'stdio-direct', label: 'direct stdio (floor)', kind: 'direct', era: 'stdio', sdkLatency: true },
];

const USAGE = `Usage: node bench/gateway.mjs [options]   (npm run bench:gateway -- [options])

  --duration <s>       measured seconds of load per round and row (default 5; --quick: 2)
  --warmup <s>         discarded warm-up seconds before each measured load (default 2; --quick: 1)
  --rounds <n>         alternating rounds over all rows (default 3; --quick: 1)
  --connections <n>    concurrent connections, each on its own session (and so, with a child
                       per session, its own child); stdio-direct: clients, each with a child (default 32)
  --seq-duration <s>   seconds of sequential calls on one connection per round and row (default 3; --quick: 1)
  --sessions <n>       sessions opened for the memory-per-session figure (default 50; --quick: 10; 0 skips it)
  --only <names>       comma-separated subset: ${ROWS.map((row) => row.name).join(', ')}
  --quick              short smoke run
  --quiet-wait <s>     before each measured load, wait up to this long for other processes to use
                       under ${NOISY_CORES} cores (default 20; --quick: 3; 0 = never wait)
  --retry-noisy <n>    measure a row's load again (up to n times) when other processes used over
                       ${NOISY_CORES} cores during it (default 2; --quick: 0)
  --out <file>         results file (default bench/results/gateway.json)
  --help               this text`;

function parseOptions() {
  const { values } = parseArgs({
    options: {
      duration: { type: 'string' },
      warmup: { type: 'string' },
      rounds: { type: 'string' },
      connections: { type: 'string' },
      'seq-duration': { type: 'string' },
      sessions: { type: 'string' },
      only: { type: 'string' },
      quick: { type: 'boolean', default: false },
      'quiet-wait': { type: 'string' },
      'retry-noisy': { type: 'string' },
      out: { type: 'string' },
      help: { type: 'boolean', default: false },
    },
    strict: true,
  });
  if (values.help) {
    console.log(USAGE);
    process.exit(0);
  }
  const number = (name, raw, fallback, { integer = false, zero = false } = {}) => {
    if (raw === undefined) return fallback;
    const value = Number(raw);
    if (zero && value === 0) return 0;
    if (!(value > 0) || (integer && !Number.isInteger(value))) throw new Error(`--${name} must be a positive ${integer ? 'integer' : 'number'}, got "${raw}"`);
    return value;
  };
  const quick = values.quick;
  let rows = ROWS;
  if (values.only !== undefined) {
    const names = values.only.split(',').map((name) => name.trim()).filter((name) => name.length > 0);
    const unknown = names.filter((name) => !ROWS.some((row) => row.name === name));
    if (unknown.length > 0 || names.length === 0) throw new Error(`--only: unknown row(s) ${unknown.join(', ')}; known: ${ROWS.map((row) => row.name).join(', ')}`);
    rows = ROWS.filter((row) => names.includes(row.name));
  }
  return {
    duration: number('duration', values.duration, quick ? 2 : 5),
    warmup: number('warmup', values.warmup, quick ? 1 : 2, { zero: true }),
    rounds: number('rounds', values.rounds, quick ? 1 : 3, { integer: true }),
    connections: number('connections', values.connections, 32, { integer: true }),
    seqDuration: number('seq-duration', values['seq-duration'], quick ? 1 : 3),
    sessions: number('sessions', values.sessions, quick ? 10 : 50, { integer: true, zero: true }),
    rows,
    quick,
    quietWait: number('quiet-wait', values['quiet-wait'], quick ? 3 : 20, { zero: true }),
    retryNoisy: number('retry-noisy', values['retry-noisy'], quick ? 0 : 2, { integer: true, zero: true }),
    out: values.out ?? here('./results/gateway.json'),
  };
}

const pause = (ms) => new Promise((resolve) => setTimeout(resolve, ms));
const log = (text = '') => process.stdout.write(`${text}\n`);
const mb = (bytes) => (bytes / 1e6).toFixed(1);
const ms2 = (value) => (Number.isFinite(value) ? value.toFixed(2) : 'n/a');

/** Runs `fn` over `items` with at most `limit` at once. */
async function bounded(items, limit, fn) {
  const out = new Array(items.length);
  let next = 0;
  await Promise.all(
    Array.from({ length: Math.min(limit, items.length) }, async () => {
      while (next < items.length) {
        const i = next++;
        out[i] = await fn(items[i], i);
      }
    }),
  );
  return out;
}

/**
 * The files the mcp-warden rows read: a config to pin with (the upstream under the name the
 * one-liner gives it), the lock `gateway pin` writes, the one-liner's gateway options, and the
 * shared-isolation config. Mode 0600, in a private temporary folder removed at the end.
 */
function wardenFiles(dir, connections, sessions) {
  const lock = join(dir, 'mcp-warden.lock.json');
  // Room for every session of a row (throughput, sequential and SDK sessions, or the memory phase).
  const cap = Math.max(64, connections + 8, sessions + 8);
  const gatewayOptions = { maxChildren: cap, maxChildrenPerKey: cap, newTools: 'hold', secrets: 'redact', pinLock: lock };
  const server = { command: EVERYTHING_ARGV[0], args: EVERYTHING_ARGV.slice(1) };
  const files = {
    pin: { gateway: { mcpServers: { [UPSTREAM_NAME]: server } } },
    oneLiner: { gateway: gatewayOptions },
    shared: { gateway: { ...gatewayOptions, mcpServers: { [UPSTREAM_NAME]: { ...server, isolation: 'shared' } } } },
  };
  const paths = { lock, dir };
  for (const [name, content] of Object.entries(files)) {
    paths[name] = join(dir, `${name}.json`);
    writeFileSync(paths[name], `${JSON.stringify(content, null, 2)}\n`, { mode: 0o600 });
  }
  // `gateway pin` lists the upstream's tools and writes their digests: the gateway then runs
  // with every tool pinned and new tools held (`newTools: "hold"`), so the pin check is live.
  execFileSync(process.execPath, [WARDEN_CLI, 'gateway', 'pin', '--config', paths.pin, '--lock', lock], { stdio: ['ignore', 'ignore', 'pipe'], env: minimalEnv() });
  chmodSync(lock, 0o600);
  return paths;
}

/** The environment every gateway gets: what a shell would pass, not the runner's whole environment. */
function minimalEnv(extra = {}) {
  const env = {};
  for (const name of ['PATH', 'HOME', 'LANG', 'TZ', 'TMPDIR']) if (process.env[name] !== undefined) env[name] = process.env[name];
  return { ...env, ...extra };
}

/** How each gateway row is started: argv, environment, what it serves the echo tool as. */
function gatewaySpec(row, port, key, files) {
  const common = [...RATE_LIMIT, '--port', String(port), '--log-level', 'info', '--audit-log', join(files.dir, `${row.name}-audit.jsonl`)];
  switch (row.kind) {
    case 'warden':
      return {
        argv: [process.execPath, WARDEN_CLI, '--env-keys', '--config', files.oneLiner, ...common, '--', ...EVERYTHING_ARGV],
        env: minimalEnv({ MCP_API_KEYS: key }),
        naming: 'gateway',
      };
    case 'warden-shared':
      return { argv: [process.execPath, WARDEN_CLI, '--env-keys', '--config', files.shared, ...common], env: minimalEnv({ MCP_API_KEYS: key }), naming: 'gateway' };
    case 'supergateway':
      if (EVERYTHING_ARGV.some((part) => /\s/.test(part))) throw new Error('supergateway runs its --stdio command through a shell: the paths must not hold spaces');
      return {
        // Its fastest setting: --logLevel none (info logs every message both ways).
        argv: [process.execPath, SUPERGATEWAY_ENTRY, '--stdio', EVERYTHING_ARGV.join(' '), '--outputTransport', 'streamableHttp', '--stateful', '--port', String(port), '--logLevel', 'none'],
        env: minimalEnv(),
        naming: 'bridge',
      };
    default:
      throw new Error(`no gateway for ${row.kind}`);
  }
}

/** What mcp-warden says about its metrics and gateway (one authenticated /api/status request). */
async function wardenFacts(url, key) {
  try {
    const response = await fetch(`${url}/api/status`, { headers: { authorization: `Bearer ${key}` } });
    const status = await response.json();
    return { monitoring: status.monitoring, metrics: status.config?.metrics ?? 'not in the status', gateway: status.config?.gateway };
  } catch (error) {
    return { error: error.message };
  }
}

/**
 * A gateway row's workload: its sessions (one per connection, the 2025 rows) or its stateless
 * request (2026-07-28), each answer checked once, which also starts each session's child.
 */
async function prepareGatewayWorkload(entry, key, count) {
  const calls = echoCalls(entry.spec.naming, key);
  entry.toolName = calls.name;
  if (entry.era === 'modern') {
    for (let i = 0; i < 3; i++) await verifyEcho(entry.gateway.mcpUrl, calls.modern.headers, { body: calls.modern.body, era: 'modern', expected: ECHO_EXPECTED });
    return { era: 'modern', body: calls.modern.body, headers: [calls.modern.headers], verify: answerCheck('modern', ECHO_EXPECTED), protocolVersion: MODERN_PROTOCOL_VERSION };
  }
  const agent = boundedAgent(8);
  try {
    const sessions = await bounded(Array.from({ length: count }), 8, async () => {
      const session = await openSession(entry.gateway.mcpUrl, key, agent);
      await verifyEcho(entry.gateway.mcpUrl, session.headers, { body: calls.legacyBody, expected: ECHO_EXPECTED, agent });
      return session;
    });
    return { era: 'legacy', body: calls.legacyBody, headers: sessions.map((session) => session.headers), verify: answerCheck('legacy', ECHO_EXPECTED), protocolVersion: sessions[0].version };
  } finally {
    agent.destroy();
  }
}

/** Starts a row: the gateway and its workload, or the direct row's stdio clients. */
async function startRow(entry, options, key, files) {
  if (entry.kind === 'direct') {
    entry.clients = await bounded(Array.from({ length: options.connections }), 8, () => new RawStdioClient().open());
    entry.seqClient = await new RawStdioClient().open();
    entry.pids = () => [...entry.clients, entry.seqClient].map((client) => client.pid);
    return;
  }
  const port = await freePort();
  entry.spec = gatewaySpec(entry, port, key, files);
  entry.gateway = await startGateway({ name: entry.name, argv: entry.spec.argv, env: entry.spec.env, port });
  entry.pids = () => entry.gateway.pids();
  await pause(1000);
  entry.idle = await entry.gateway.memory();
  entry.workload = await prepareGatewayWorkload(entry, key, options.connections);
  // The sequential-latency connection has a session of its own, used at once: mcp-warden closes
  // a session that did nothing after initialize within --session-unused-ttl (60 s).
  const seqAgent = boundedAgent(1);
  entry.seqAgent = seqAgent;
  entry.seqHeaders = entry.era === 'modern' ? entry.workload.headers[0] : (await openSession(entry.gateway.mcpUrl, key, seqAgent)).headers;
  await verifyEcho(entry.gateway.mcpUrl, entry.seqHeaders, { body: entry.workload.body, era: entry.workload.era, expected: ECHO_EXPECTED, agent: seqAgent });
  if (entry.sdkLatency) {
    const { Client, StreamableHTTPClientTransport } = await import('@modelcontextprotocol/client');
    const transport = new StreamableHTTPClientTransport(new URL(entry.gateway.mcpUrl), { requestInit: { headers: { authorization: `Bearer ${key}` } } });
    entry.sdkClient = new Client({ name: 'mcp-warden-bench', version: '1.0.0' });
    await entry.sdkClient.connect(transport);
    const first = await entry.sdkClient.callTool({ name: GATEWAY_ECHO_TOOL, arguments: { ...ECHO_ARGUMENTS } });
    if (first?.content?.[0]?.text !== ECHO_EXPECTED) throw new Error(`${entry.name}: the SDK client's echo call answered ${JSON.stringify(first).slice(0, 200)}`);
  }
  if (entry.kind !== 'supergateway') entry.facts = await wardenFacts(entry.gateway.url, key);
}

async function stopRow(entry) {
  if (entry.kind === 'direct') {
    await Promise.all([...(entry.clients ?? []), ...(entry.seqClient ? [entry.seqClient] : [])].map((client) => client.close()));
    return { survivors: [] };
  }
  await entry.sdkClient?.close().catch(() => undefined);
  entry.seqAgent?.destroy();
  return entry.gateway === undefined ? { survivors: [] } : entry.gateway.stop();
}

/** Throughput of the direct row: N closed-loop raw stdio clients, shaped like ./load.mjs's result. */
async function directLoad(entry, options, measured) {
  const pids = entry.clients.map((client) => client.pid);
  const meter = cpuMeter(pids);
  let rssPeak = 0;
  const timer = measured ? setInterval(() => (rssPeak = Math.max(rssPeak, rssOf(pids).rss)), 250) : undefined;
  const run = await closedLoop(entry.clients, (measured ? options.duration : options.warmup) * 1000);
  clearInterval(timer);
  const cpu = meter.stop() ?? null;
  const p = run.latencies.percentiles([50, 90, 99]);
  return {
    requestsPerSec: run.requestsPerSec,
    requestsTotal: run.requests,
    latencyMs: { p50: p.p50, p90: p.p90, p99: p.p99, max: p.max, mean: p.mean, samples: run.latencies.length },
    non2xx: 0,
    mismatches: run.mismatches,
    errors: run.errors,
    timeouts: 0,
    cpu,
    cpuUsPerRequest: cpu ? Math.round((cpu.serverCores * 1e6) / run.requestsPerSec) : null,
    rssPeak,
  };
}

/** Latency of sequential calls on one connection: `warmup` calls, then calls for `seconds`. */
async function sequentialHttp(entry, seconds, warmup = 50) {
  const body = entry.workload.body;
  const latencies = new Samples();
  let mismatches = 0;
  const once = async () => {
    const start = process.hrtime.bigint();
    const response = await post(entry.gateway.mcpUrl, entry.seqHeaders, body, entry.seqAgent);
    const ms = Number(process.hrtime.bigint() - start) / 1e6;
    let problem = response.status === 200 ? undefined : `HTTP ${response.status}`;
    if (problem === undefined) {
      try {
        problem = echoProblem(parseAnswer(response), entry.era, ECHO_EXPECTED);
      } catch {
        problem = 'not JSON-RPC';
      }
    }
    return { ms, problem };
  };
  for (let i = 0; i < warmup; i++) if ((await once()).problem !== undefined) mismatches++;
  const deadline = performance.now() + seconds * 1000;
  while (performance.now() < deadline) {
    const { ms, problem } = await once();
    if (problem === undefined) latencies.push(ms);
    else mismatches++;
  }
  return { latencies, mismatches };
}

async function sequentialDirect(entry, seconds, warmup = 50) {
  const latencies = new Samples();
  let mismatches = 0;
  for (let i = 0; i < warmup; i++) if ((await entry.seqClient.call()).problem !== undefined) mismatches++;
  const deadline = performance.now() + seconds * 1000;
  while (performance.now() < deadline) {
    const { ms, problem } = await entry.seqClient.call();
    if (problem === undefined) latencies.push(ms);
    else mismatches++;
  }
  return { latencies, mismatches };
}

function latencySummary(run, cpu) {
  const p = run.latencies.percentiles([50, 90, 99]);
  return { p50: p.p50, p90: p.p90, p99: p.p99, mean: p.mean, samples: run.latencies.length, mismatches: run.mismatches, otherCores: cpu?.otherCores ?? null };
}

/** One row's measurements in one round: load (noisy runs measured again), then sequential latency. */
async function measureRow(entry, entries, options, round) {
  let load;
  for (let attempt = 0; ; attempt++) {
    const quiet = await waitForQuiet(entries.flatMap((other) => other.pids()), { threshold: NOISY_CORES, maxWaitMs: options.quietWait * 1000 });
    if (!quiet.quiet) log(`   (machine busy: other processes used ${quiet.otherCores} cores for ${options.quietWait}s; measuring anyway)`);
    if (entry.kind === 'direct') {
      if (options.warmup > 0) await directLoad(entry, options, false);
      load = await directLoad(entry, options, true);
    } else {
      if (options.warmup > 0) await runLoad(entry.gateway, entry.workload, { duration: options.warmup, connections: options.connections, sampleRss: false });
      await pause(200);
      const before = processTicks(entry.gateway.child.pid);
      load = await runLoad(entry.gateway, entry.workload, { duration: options.duration, connections: options.connections });
      // The gateway process alone (its children excluded): what the gateway itself costs per call.
      load.gatewayUsPerRequest = Math.round((((processTicks(entry.gateway.child.pid) - before) / USER_HZ) * 1e6) / load.requestsTotal);
      delete load.rssSamples;
      try {
        await verifyEcho(entry.gateway.mcpUrl, entry.workload.headers[0], { body: entry.workload.body, era: entry.workload.era, expected: ECHO_EXPECTED });
      } catch (error) {
        throw new Error(`${entry.name} stopped answering correctly after round ${round + 1}; aborting. ${error.message}`);
      }
    }
    load.quietWait = quiet;
    const noisy = load.cpu !== null && load.cpu.otherCores > NOISY_CORES;
    const retry = noisy && attempt < options.retryNoisy && badResponses(load) === 0;
    log(
      `round ${round + 1}/${options.rounds}  ${entry.name.padEnd(17)} ${Math.round(load.requestsPerSec).toLocaleString('en-US').padStart(7)} req/s  ` +
        `p50 ${ms2(load.latencyMs.p50)} ms  p99 ${ms2(load.latencyMs.p99)} ms  RSS ${mb(load.rssPeak)} MB` +
        (load.cpu === null ? '' : `  cores: server ${load.cpu.serverCores.toFixed(2)}, client ${load.cpu.runnerCores.toFixed(2)}, other ${load.cpu.otherCores.toFixed(2)}`) +
        (noisy ? (retry ? '  (noisy: discarded, measuring again)' : '  (noisy)') : '') +
        (badResponses(load) > 0 ? `  !! non-2xx ${load.non2xx}, not the echo result ${load.mismatches}, errors ${load.errors}, timeouts ${load.timeouts}` : ''),
    );
    if (!retry) break;
    entry.discarded.push(load);
    await pause(300);
  }

  await pause(200);
  const meter = cpuMeter(entry.pids());
  const seq = entry.kind === 'direct' ? await sequentialDirect(entry, options.seqDuration) : await sequentialHttp(entry, options.seqDuration);
  const result = { round: round + 1, load, seq: latencySummary(seq, meter.stop()) };
  if (entry.sdkLatency) {
    // The direct SDK client spawns its own child, which the meter cannot name in advance: no
    // "other processes" figure for it (it would count that child).
    const sdkMeter = entry.kind === 'direct' ? undefined : cpuMeter(entry.pids());
    const sdk = entry.kind === 'direct' ? await sdkStdioSequential(options.seqDuration * 1000) : await sdkSequential(entry.sdkClient, GATEWAY_ECHO_TOOL, options.seqDuration * 1000, 50);
    result.sdkSeq = latencySummary(sdk, sdkMeter?.stop());
  }
  log(
    `           ${''.padEnd(17)} sequential p50 ${ms2(result.seq.p50)} ms (p99 ${ms2(result.seq.p99)}, ${result.seq.samples} calls)` +
      (result.sdkSeq ? `; SDK client p50 ${ms2(result.sdkSeq.p50)} ms (${result.sdkSeq.samples} calls)` : '') +
      (result.seq.mismatches + (result.sdkSeq?.mismatches ?? 0) > 0 ? `  !! wrong answers ${result.seq.mismatches + (result.sdkSeq?.mismatches ?? 0)}` : ''),
  );
  return result;
}

/**
 * Memory per child session: a fresh gateway, idle; `count` sessions each with one echo call
 * (which starts its child); the RSS of the gateway and every process below it, before and
 * after. Then every session is ended (DELETE) and the children still there are counted.
 */
async function memoryPerSession(row, options, key, files) {
  const entry = { ...row, discarded: [] };
  const port = await freePort();
  entry.spec = gatewaySpec(entry, port, key, files);
  entry.gateway = await startGateway({ name: entry.name, argv: entry.spec.argv, env: entry.spec.env, port });
  try {
    await pause(1000);
    const idle = await entry.gateway.memory();
    const idleGateway = rssOf([entry.gateway.child.pid]).rss;
    const calls = echoCalls(entry.spec.naming, key);
    const agent = boundedAgent(8);
    const sessions = await bounded(Array.from({ length: options.sessions }), 8, async () => {
      const session = await openSession(entry.gateway.mcpUrl, key, agent);
      await verifyEcho(entry.gateway.mcpUrl, session.headers, { body: calls.legacyBody, expected: ECHO_EXPECTED, agent });
      return session;
    });
    await pause(2000);
    const loaded = await entry.gateway.memory();
    const gatewayOnly = rssOf([entry.gateway.child.pid]).rss;
    const url = new URL(entry.gateway.mcpUrl);
    const deleted = await bounded(sessions, 8, (session) =>
      new Promise((resolve) => {
        const req = httpRequest({ host: url.hostname, port: url.port, path: url.pathname, method: 'DELETE', headers: session.headers, agent }, (res) => {
          res.resume();
          res.on('end', () => resolve(res.statusCode));
        });
        req.on('error', () => resolve(0));
        req.end();
      }),
    );
    // Children are signalled when their session ends (SIGTERM, SIGKILL after 5 s): give them that
    // long. A shared pool's child outlives the sessions (it is the upstream's, not theirs).
    const remaining = idle.processes + (entry.kind === 'warden-shared' ? 1 : 0);
    let after = await entry.gateway.memory();
    for (let waited = 0; after.processes > remaining && waited < 8000; waited += 250) {
      await pause(250);
      after = await entry.gateway.memory();
    }
    agent.destroy();
    return {
      sessions: options.sessions,
      idle,
      loaded,
      gatewayProcessRss: { idle: idleGateway, loaded: gatewayOnly },
      perSessionBytes: Math.round((loaded.rss - idle.rss) / options.sessions),
      gatewayPerSessionBytes: Math.round((gatewayOnly - idleGateway) / options.sessions),
      processesPerSession: (loaded.processes - idle.processes) / options.sessions,
      deleteStatuses: Object.fromEntries([...new Set(deleted)].map((status) => [status, deleted.filter((s) => s === status).length])),
      afterDelete: after,
    };
  } finally {
    entry.stopResult = await entry.gateway.stop();
    if (entry.stopResult.survivors.length > 0) log(`   !! ${entry.name}: ${entry.stopResult.survivors.length} process(es) survived the gateway's stop (killed)`);
  }
}

/** RSS of one server-everything child after one call (median of 3): the floor of a session's memory. */
async function directChildRss() {
  const clients = await Promise.all([0, 1, 2].map(() => new RawStdioClient().open()));
  try {
    await pause(1000);
    return median(clients.map((client) => rssOf([client.pid]).rss));
  } finally {
    await Promise.all(clients.map((client) => client.close()));
  }
}

/** An installed package's version, from node_modules (some packages do not export package.json). */
function packageVersion(name) {
  return JSON.parse(readFileSync(here(`../node_modules/${name}/package.json`), 'utf8')).version;
}

function pairedMedian(a, b, pick, combine) {
  const values = [];
  for (let i = 0; i < Math.min(a.rounds.length, b.rounds.length); i++) {
    const x = pick(a.rounds[i]);
    const y = pick(b.rounds[i]);
    if (Number.isFinite(x) && Number.isFinite(y)) values.push(combine(x, y));
  }
  return values.length > 0 ? median(values) : NaN;
}

async function main() {
  const options = parseOptions();
  if (!existsSync(WARDEN_CLI)) throw new Error('dist/ is missing: run `npm run build` first (npm run bench:gateway does it).');
  const key = randomBytes(32).toString('base64url');
  const machine = machineInfo();
  const versions = {
    supergateway: packageVersion('supergateway'),
    '@modelcontextprotocol/server-everything': packageVersion('@modelcontextprotocol/server-everything'),
    '@modelcontextprotocol/client': packageVersion('@modelcontextprotocol/client'),
  };
  // Config files, the pin lock and the audit trails; removed however the run ends.
  const dir = mkdtempSync(join(tmpdir(), 'mcp-warden-gwbench-'));

  log('mcp-warden gateway benchmark');
  log(`machine : ${machine.cpuModel}, ${machine.cores} cores, ${machine.memoryGiB} GiB, ${machine.platform}`);
  log(`node    : ${machine.node}   date: ${machine.date}`);
  log(`upstream: @modelcontextprotocol/server-everything ${versions['@modelcontextprotocol/server-everything']} stdio (${EVERYTHING_ARGV.join(' ')})`);
  log(`others  : supergateway ${versions.supergateway}, SDK v2 client ${versions['@modelcontextprotocol/client']}, autocannon ${machine.versions.autocannon}`);
  log(
    `workload: tools/call echo {"message":"hello"} → "Echo: hello"; ${options.connections} connections, ${options.rounds} round(s) × ${options.duration}s ` +
      `(+${options.warmup}s warm-up), then ${options.seqDuration}s of sequential calls; median round reported`,
  );
  if (options.quick) log('mode    : --quick (smoke run: figures are indicative only)');
  log();

  /** @type {any[]} the rows measured, in table order */
  const entries = [];
  /** @type {any[]} the rows whose processes are running */
  const running = [];
  const stopAll = () => Promise.allSettled(running.splice(0).map((entry) => stopRow(entry)));
  process.once('SIGINT', () => {
    void stopAll().then(() => {
      rmSync(dir, { recursive: true, force: true });
      process.exit(130);
    });
  });

  const memory = {};
  const stops = {};
  try {
    const files = wardenFiles(dir, options.connections, options.sessions);
    for (const row of options.rows) {
      const entry = { ...row, rounds: [], discarded: [] };
      entries.push(entry);
      running.push(entry);
      await startRow(entry, options, key, files);
      const tree = entry.kind === 'direct' ? rssOf(entry.pids()) : await entry.gateway.memory();
      entry.started = tree;
      log(
        `started ${entry.name.padEnd(17)} ${entry.gateway?.mcpUrl ?? 'stdio'}  ${tree.processes} processes, RSS ${mb(tree.rss)} MB` +
          (entry.idle ? ` (idle before sessions ${mb(entry.idle.rss)} MB)` : '') +
          (entry.facts === undefined ? '' : `  metrics ${entry.facts.metrics === false ? 'off' : 'on'}, monitoring ${entry.facts.monitoring ? 'on' : 'off'}`),
      );
    }
    log();
    for (let round = 0; round < options.rounds; round++) {
      // Rotate the order each round so no row always follows the same neighbour.
      const order = entries.map((_, i) => entries[(i + round) % entries.length]);
      for (const entry of order) {
        entry.rounds[round] = await measureRow(entry, entries, options, round);
        await pause(300);
      }
    }
    for (const entry of running.splice(0)) {
      stops[entry.name] = await stopRow(entry);
      if (stops[entry.name].survivors.length > 0) log(`   !! ${entry.name}: ${stops[entry.name].survivors.length} process(es) survived the gateway's stop (killed)`);
    }

    if (options.sessions > 0) {
      log();
      log(`memory per child session (${options.sessions} sessions, one call each, on a fresh gateway) …`);
      for (const row of options.rows.filter((candidate) => candidate.era === 'legacy')) {
        memory[row.name] = await memoryPerSession(row, options, key, files);
        const m = memory[row.name];
        log(
          `  ${row.name.padEnd(17)} idle ${mb(m.idle.rss)} MB (${m.idle.processes} proc.) → ${mb(m.loaded.rss)} MB (${m.loaded.processes} proc.): ` +
            `${mb(m.perSessionBytes)} MB per session (gateway process ${mb(m.gatewayPerSessionBytes)} MB of it); after DELETE ${m.afterDelete.processes} proc.`,
        );
      }
      if (options.rows.some((row) => row.kind === 'direct')) {
        memory['stdio-direct'] = { childRssBytes: await directChildRss() };
        log(`  ${'stdio-direct'.padEnd(17)} one server-everything child after one call: ${mb(memory['stdio-direct'].childRssBytes)} MB`);
      }
    }
  } catch (error) {
    await stopAll();
    rmSync(dir, { recursive: true, force: true });
    throw error;
  }
  rmSync(dir, { recursive: true, force: true });
  report({ options, machine, versions, entries, memory, stops });
}

/** Prints the tables and verdicts and writes the results file. */
function report({ options, machine, versions, entries, memory, stops }) {
  for (const entry of entries) {
    entry.medianRound = medianIndex(entry.rounds.map((round) => round.load.requestsPerSec));
    entry.median = entry.rounds[entry.medianRound];
    entry.invalid = entry.rounds.some((round) => badResponses(round.load) > 0 || round.seq.mismatches > 0 || (round.sdkSeq?.mismatches ?? 0) > 0);
    entry.cpuUsPerRequest = median(entry.rounds.map((round) => round.load.cpuUsPerRequest).filter((value) => value !== null));
    entry.gatewayUsPerRequest = median(entry.rounds.map((round) => round.load.gatewayUsPerRequest).filter((value) => value !== undefined));
    entry.seqP50 = median(entry.rounds.map((round) => round.seq.p50));
    entry.sdkSeqP50 = entry.sdkLatency ? median(entry.rounds.map((round) => round.sdkSeq.p50)) : undefined;
  }
  const byName = Object.fromEntries(entries.map((entry) => [entry.name, entry]));
  const valid = (entry) => entry !== undefined && !entry.invalid;
  const sg = byName['gw-supergateway'];
  const direct = byName['stdio-direct'];

  const comparisons = {};
  for (const entry of entries.filter((candidate) => candidate.kind.startsWith('warden'))) {
    comparisons[entry.name] = {
      vsSupergateway: valid(entry) && valid(sg) ? pairedMedian(entry, sg, (round) => round.load.requestsPerSec, (a, b) => a / b) : NaN,
      vsSupergatewayCpu: valid(entry) && valid(sg) ? sg.cpuUsPerRequest / entry.cpuUsPerRequest : NaN,
      addedP50Ms: valid(entry) && valid(direct) ? pairedMedian(entry, direct, (round) => round.seq.p50, (a, b) => a - b) : NaN,
      addedP50SdkMs: entry.sdkLatency && valid(entry) && valid(direct) ? pairedMedian(entry, direct, (round) => round.sdkSeq?.p50, (a, b) => a - b) : undefined,
    };
  }
  if (sg !== undefined) comparisons['gw-supergateway'] = { addedP50Ms: valid(sg) && valid(direct) ? pairedMedian(sg, direct, (round) => round.seq.p50, (a, b) => a - b) : NaN };

  const on = comparisons['gw-warden-on'];
  const verdict = (ok, measured) => (Number.isFinite(measured) ? (ok ? 'PASS' : 'MISS') : 'n/a');
  const targets = [
    {
      target: `gw-warden-on throughput ≥ ${TARGETS.vsSupergateway}x gw-supergateway`,
      measured: on?.vsSupergateway,
      text: Number.isFinite(on?.vsSupergateway) ? `${on.vsSupergateway.toFixed(2)}x (CPU µs/req: ${on.vsSupergatewayCpu.toFixed(2)}x)` : 'n/a',
      verdict: verdict(on?.vsSupergateway >= TARGETS.vsSupergateway, on?.vsSupergateway),
    },
    {
      target: `added p50 over direct stdio ≤ ${TARGETS.addedP50Ms} ms (sequential, raw clients)`,
      measured: on?.addedP50Ms,
      text: Number.isFinite(on?.addedP50Ms) ? `${on.addedP50Ms.toFixed(3)} ms` : 'n/a',
      verdict: verdict(on?.addedP50Ms <= TARGETS.addedP50Ms, on?.addedP50Ms),
    },
    {
      target: `added p50 over direct stdio ≤ ${TARGETS.addedP50Ms} ms (sequential, SDK v2 clients)`,
      measured: on?.addedP50SdkMs,
      text: Number.isFinite(on?.addedP50SdkMs) ? `${on.addedP50SdkMs.toFixed(3)} ms` : 'n/a',
      verdict: verdict(on?.addedP50SdkMs <= TARGETS.addedP50Ms, on?.addedP50SdkMs),
    },
    {
      target: 'memory per child session (reported)',
      text: Object.entries(memory)
        .filter(([, m]) => m.perSessionBytes !== undefined)
        .map(([name, m]) => `${name} ${mb(m.perSessionBytes)} MB`)
        .join(', ') || 'not measured',
      verdict: 'reported',
    },
  ];

  log();
  log(`== Throughput: median of ${options.rounds} round(s), ${options.duration}s each, ${options.connections} connections; sequential: one connection, ${options.seqDuration}s ==`);
  log(
    table(
      ['row', 'req/s', 'rounds req/s', 'p50 ms', 'p99 ms', 'seq p50 ms', 'SDK seq p50', 'CPU µs/req', 'gateway µs/req', 'RSS load MB', 'proc.'],
      entries.map((entry) => [
        entry.name + (entry.invalid ? ' !!' : ''),
        Math.round(entry.median.load.requestsPerSec).toLocaleString('en-US'),
        entry.rounds.map((round) => Math.round(round.load.requestsPerSec)).join(' / '),
        ms2(entry.median.load.latencyMs.p50),
        ms2(entry.median.load.latencyMs.p99),
        ms2(entry.seqP50),
        entry.sdkSeqP50 === undefined ? '' : ms2(entry.sdkSeqP50),
        Number.isFinite(entry.cpuUsPerRequest) ? Math.round(entry.cpuUsPerRequest) : 'n/a',
        Number.isFinite(entry.gatewayUsPerRequest) ? Math.round(entry.gatewayUsPerRequest) : '',
        mb(entry.median.load.rssPeak),
        entry.started.processes,
      ]),
    ),
  );
  const invalid = entries.filter((entry) => entry.invalid);
  if (invalid.length > 0) log(`!! non-2xx responses, answers other than the echo result, errors or timeouts in: ${invalid.map((entry) => entry.name).join(', ')} (must be 0)`);
  log();
  log('== Against supergateway (per-round req/s ratios) and the direct stdio floor (per-round p50 differences) ==');
  log(
    table(
      ['row', 'req/s vs supergateway', 'CPU µs/req vs supergateway', 'added seq p50 ms', 'added SDK seq p50 ms'],
      Object.entries(comparisons).map(([name, c]) => [
        name,
        Number.isFinite(c.vsSupergateway) ? `${c.vsSupergateway.toFixed(2)}x` : '',
        Number.isFinite(c.vsSupergatewayCpu) ? `${c.vsSupergatewayCpu.toFixed(2)}x` : '',
        Number.isFinite(c.addedP50Ms) ? c.addedP50Ms.toFixed(3) : 'n/a',
        c.addedP50SdkMs === undefined ? '' : Number.isFinite(c.addedP50SdkMs) ? c.addedP50SdkMs.toFixed(3) : 'n/a',
      ]),
    ),
  );
  log();
  log('== Targets (reported, not asserted) ==');
  log(table(['target', 'measured', 'verdict'], targets.map((t) => [t.target, t.text, t.verdict])));

  const results = {
    machine,
    versions,
    options: { ...options, rows: options.rows.map((row) => row.name) },
    workload: {
      upstream: `${EVERYTHING_ARGV.join(' ')} (server-everything over stdio)`,
      call: `tools/call echo ${JSON.stringify(ECHO_ARGUMENTS)} → "${ECHO_EXPECTED}"; gateway rows name it ${GATEWAY_ECHO_TOOL} on /mcp, supergateway serves it as echo`,
      checked: 'every response: HTTP 200 and a JSON-RPC 2.0 result with the call id, the text "Echo: hello", no isError (2026-07-28: resultType "complete"); stdio answers likewise; anything else is never throughput',
      security: 'gw-warden-*: API key (MCP_API_KEYS), rate limit 1000000/10s, Host/Origin guard, request log at info to /dev/null, audit trail to a file, monitoring counters, tool pinning (lock written by `gateway pin`, newTools hold), secret scanning with secrets: redact',
      supergateway: '--outputTransport streamableHttp --stateful --logLevel none; no inbound auth',
    },
    rows: entries.map((entry) => ({
      name: entry.name,
      label: entry.label,
      era: entry.era,
      argv: entry.spec?.argv.map((part) => part.replace(/mcp-warden-gwbench-[^/]+/, 'mcp-warden-gwbench-XXXX')),
      facts: entry.facts,
      started: entry.started,
      medianRound: entry.medianRound + 1,
      cpuUsPerRequestMedian: entry.cpuUsPerRequest,
      gatewayUsPerRequestMedian: entry.gatewayUsPerRequest,
      seqP50Median: entry.seqP50,
      sdkSeqP50Median: entry.sdkSeqP50,
      invalid: entry.invalid,
      rounds: entry.rounds,
      discardedNoisyRuns: entry.discarded,
      stop: stops[entry.name],
    })),
    comparisons,
    memory,
    targets,
  };
  mkdirSync(dirname(options.out), { recursive: true });
  writeFileSync(options.out, `${JSON.stringify(results, null, 2)}\n`);
  log();
  log(`results written to ${options.out}`);
  if (invalid.length > 0) process.exitCode = 1;
}

main().catch((error) => {
  console.error(`bench:gateway: ${error.message}`);
  process.exit(1);
});

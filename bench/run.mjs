/**
 * @module bench/run
 * `npm run bench`: mcp-warden side by side with the SDK references (v2 `createMcpHandler` for
 * the 2026-07-28 era, v1 Express for the 2025 era), FastMCP and raw node:http, in one run,
 * alternating rounds. mcp-warden runs twice per security setting: driven with 2025 requests on
 * sessions, and with 2026-07-28 stateless requests. Each server runs in its own child process;
 * autocannon runs here against 127.0.0.1. Then the micro-benchmarks (bench/micro.mjs, under
 * --expose-gc). Prints a table, ratios and target verdicts, and writes bench/results/latest.json.
 *
 *   node bench/run.mjs [--duration 5] [--warmup 2] [--rounds 3] [--connections 32]
 *                      [--only warden-on,sdk-express] [--quick] [--no-micro] [--profile]
 *
 * See bench/README.md.
 */

import { randomBytes } from 'node:crypto';
import { fork } from 'node:child_process';
import { existsSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { waitForQuiet } from './lib/cpu.mjs';
import { runLoad } from './lib/load.mjs';
import { machineInfo } from './lib/machine.mjs';
import { answerCheck, boundedAgent, CALL_BODY, ECHO_ARGS, modernCall, MODERN_PROTOCOL_VERSION, openSession, verifyEcho } from './lib/mcp-http.mjs';
import { startServer } from './lib/proc.mjs';
import { summariseProfile } from './lib/profile.mjs';
import { badResponses, microTable, ratioLines, ratios, serverTable, table, verdicts, verdictTable } from './lib/report.mjs';
import { startBenchRedis } from './lib/redis.mjs';
import { median, medianIndex } from './lib/stats.mjs';

const here = (path) => fileURLToPath(new URL(path, import.meta.url));

/** Other processes using more than this many cores during a run make it "noisy". */
const NOISY_CORES = 0.2;

/**
 * The servers under test, in table order. `era` is how the runner drives them: 'legacy' = the
 * 2025 request on one established session per connection; 'modern' = the self-contained
 * 2026-07-28 request (`modernCall`), no session.
 */
const SERVERS = [
  { name: 'warden-modern-on', label: 'warden 2026 (security on)', era: 'modern', script: here('./servers/warden.mjs'), args: ['--security', 'on'] },
  { name: 'warden-modern-off', label: 'warden 2026 (security off)', era: 'modern', script: here('./servers/warden.mjs'), args: ['--security', 'off'] },
  { name: 'sdk-v2-ref', label: 'SDK v2 ref (2026)', era: 'modern', script: here('./servers/sdk-v2.mjs'), args: [] },
  { name: 'warden-on', label: 'warden 2025 (security on)', era: 'legacy', script: here('./servers/warden.mjs'), args: ['--security', 'on'] },
  { name: 'warden-off', label: 'warden 2025 (security off)', era: 'legacy', script: here('./servers/warden.mjs'), args: ['--security', 'off'] },
  // Security on with the shared state (rate limits, sessions) in a private Redis: one Lua call per request.
  { name: 'warden-redis', label: 'warden 2025 (on, Redis)', era: 'legacy', script: here('./servers/warden.mjs'), args: ['--security', 'on', '--redis'] },
  { name: 'sdk-express', label: 'SDK v1 ref (Express)', era: 'legacy', script: here('./servers/sdk-express.mjs'), args: [] },
  { name: 'fastmcp', label: 'FastMCP httpStream', era: 'legacy', script: here('./servers/fastmcp.mjs'), args: [] },
  { name: 'raw-node', label: 'raw node:http', era: 'legacy', script: here('./servers/raw-node.mjs'), args: [] },
];

const USAGE = `Usage: node bench/run.mjs [options]   (npm run bench -- [options])

  --duration <s>       measured seconds per round and server (default 5; --quick: 2)
  --warmup <s>         discarded warm-up seconds before each measured run (default 2; --quick: 1)
  --rounds <n>         alternating rounds over all servers (default 3; --quick: 1)
  --connections <n>    concurrent connections (default 32); 2025-era rows open one MCP
                       session per connection
  --only <names>       comma-separated subset: ${SERVERS.map((s) => s.name).join(', ')}
  --quick              short smoke run (also shrinks the micro-benchmarks)
  --no-micro           skip the micro-benchmarks
  --no-fresh           keep each server process across rounds (default: a fresh process for
                       every measured run, so servers that retain memory per request start equal)
  --profile            run each server under --cpu-prof (bench/results/profiles/) and print its
                       top self-time functions; profiled figures are slowed, so combine with --only
                       (implies --no-fresh)
  --quiet-wait <s>     before each measured run, wait up to this long for other processes to
                       use under ${NOISY_CORES} cores (default 20; --quick: 3; 0 = never wait)
  --retry-noisy <n>    measure a server's round again (up to n times) when other processes used
                       over ${NOISY_CORES} cores during it (default 2; --quick: 0)
  --out <file>         results file (default bench/results/latest.json)
  --help               this text`;

function parseOptions() {
  const { values } = parseArgs({
    options: {
      duration: { type: 'string' },
      warmup: { type: 'string' },
      rounds: { type: 'string' },
      connections: { type: 'string' },
      only: { type: 'string' },
      quick: { type: 'boolean', default: false },
      'no-micro': { type: 'boolean', default: false },
      profile: { type: 'boolean', default: false },
      'quiet-wait': { type: 'string' },
      'retry-noisy': { type: 'string' },
      'no-fresh': { type: 'boolean', default: false },
      out: { type: 'string' },
      help: { type: 'boolean', default: false },
    },
    strict: true,
  });
  if (values.help) {
    console.log(USAGE);
    process.exit(0);
  }
  const positive = (name, raw, fallback, integer = false) => {
    if (raw === undefined) return fallback;
    const value = Number(raw);
    if (!(value > 0) || (integer && !Number.isInteger(value))) throw new Error(`--${name} must be a positive ${integer ? 'integer' : 'number'}, got "${raw}"`);
    return value;
  };
  const quick = values.quick;
  let selected = SERVERS;
  if (values.only !== undefined) {
    const names = values.only.split(',').map((name) => name.trim()).filter((name) => name.length > 0);
    const unknown = names.filter((name) => !SERVERS.some((server) => server.name === name));
    if (unknown.length > 0 || names.length === 0) throw new Error(`--only: unknown server(s) ${unknown.join(', ')}; known: ${SERVERS.map((s) => s.name).join(', ')}`);
    selected = SERVERS.filter((server) => names.includes(server.name));
  }
  return {
    duration: positive('duration', values.duration, quick ? 2 : 5),
    warmup: values.warmup === '0' ? 0 : positive('warmup', values.warmup, quick ? 1 : 2),
    rounds: positive('rounds', values.rounds, quick ? 1 : 3, true),
    connections: positive('connections', values.connections, 32, true),
    servers: selected,
    quick,
    micro: !values['no-micro'],
    fresh: !values['no-fresh'],
    profile: values.profile,
    retryNoisy: values['retry-noisy'] === '0' ? 0 : positive('retry-noisy', values['retry-noisy'], quick ? 0 : 2, true),
    quietWait: values['quiet-wait'] === '0' ? 0 : positive('quiet-wait', values['quiet-wait'], quick ? 3 : 20),
    out: values.out ?? here('./results/latest.json'),
  };
}

const pause = (ms) => new Promise((resolve) => setTimeout(resolve, ms));
const log = (text = '') => process.stdout.write(`${text}\n`);

/**
 * What autocannon replays against a server, checked before any load: 2025 era, one
 * established session per connection, each answering the echo call; 2026-07-28 era, the one
 * stateless request every connection sends, answered correctly a few times in a row.
 *
 * @returns {Promise<{ era: 'legacy' | 'modern', body: string, headers: Array<Readonly<Record<string,string>>>,
 *   verify: (body: string) => boolean, protocolVersion: string, answer: { bytes: number, contentType: string } }>}
 */
async function prepareWorkload(server, era, key, count) {
  if (era === 'modern') {
    const call = modernCall('echo', ECHO_ARGS, key);
    let check;
    for (let i = 0; i < 3; i++) check = await verifyEcho(server.mcpUrl, call.headers, { body: call.body, era });
    return { era, body: call.body, headers: [call.headers], verify: answerCheck(era), protocolVersion: MODERN_PROTOCOL_VERSION, answer: check };
  }
  const agent = boundedAgent(16);
  try {
    const sessions = await Promise.all(Array.from({ length: count }, () => openSession(server.mcpUrl, key, agent)));
    let check;
    for (const session of sessions) check = await verifyEcho(server.mcpUrl, session.headers);
    return {
      era,
      body: CALL_BODY,
      headers: sessions.map((session) => session.headers),
      verify: answerCheck(era),
      protocolVersion: sessions[0].version,
      answer: check,
    };
  } finally {
    agent.destroy();
  }
}

/** The request of a workload checked once more (after a round), through its first header set. */
function verifyWorkload(server, workload) {
  return verifyEcho(server.mcpUrl, workload.headers[0], { body: workload.body, era: workload.era });
}

function runMicro(quick) {
  return new Promise((resolve, reject) => {
    const child = fork(here('./micro.mjs'), quick ? ['--quick'] : [], {
      execArgv: ['--expose-gc'],
      stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
    });
    let results;
    child.on('message', (message) => {
      if (message?.type === 'micro') results = message.results;
    });
    child.on('error', reject);
    child.on('exit', (code) => {
      if (results !== undefined) resolve(results);
      else reject(new Error(`bench/micro.mjs exited with code ${code} without results`));
    });
  });
}

/**
 * Starts (or restarts) an entry's server child: fork, idle RSS one second after ready (before
 * any session), then its workload: one established session per connection (2025 era) or the
 * stateless 2026-07-28 request, checked with the echo call.
 * Children run with --expose-gc so the runner can read the heap after a forced gc.
 */
async function startEntry(entry, options, key) {
  const execArgv = ['--expose-gc'];
  if (options.profile) {
    const dir = here('./results/profiles');
    mkdirSync(dir, { recursive: true });
    rmSync(`${dir}/${entry.name}.cpuprofile`, { force: true });
    execArgv.push('--cpu-prof', '--cpu-prof-dir', dir, '--cpu-prof-name', `${entry.name}.cpuprofile`);
  }
  const env = { BENCH_API_KEY: key, ...(options.redisUrl === undefined ? {} : { BENCH_REDIS_URL: options.redisUrl }) };
  const server = await startServer({ name: entry.name, script: entry.script, args: entry.args, execArgv, env });
  entry.server = server;
  entry.info = server.info;
  entry.starts += 1;
  await pause(1000);
  const idle = await server.memory();
  entry.idleSamples.push(idle);
  try {
    entry.workload = await prepareWorkload(server, entry.era, key, options.connections);
  } catch (error) {
    throw new Error(`${entry.label} does not answer the echo call correctly; aborting. ${error.message}`);
  }
  return idle;
}

const heapOf = (memory) => memory.heapUsed + memory.arrayBuffers;

/**
 * One measured run of one server: a fresh process unless --no-fresh (so a server that retains
 * memory per request starts every run from the same state), a wait for a quiet machine, the
 * warm-up, the measured run, and the answer checked again. Also reports the heap retained per
 * request (heap after a forced gc, before the warm-up and after the run).
 */
async function measureOnce(entry, entries, options, round, key) {
  if (options.fresh && entry.measuredOnce) {
    await entry.server.stop();
    await startEntry(entry, options, key);
  }
  entry.measuredOnce = true;
  const quiet = await waitForQuiet(
    entries.map((other) => other.server.child.pid),
    { threshold: NOISY_CORES, maxWaitMs: options.quietWait * 1000 },
  );
  if (!quiet.quiet) log(`   (machine busy: other processes used ${quiet.otherCores} cores for ${options.quietWait}s; measuring anyway)`);
  const before = await entry.server.memory({ gc: true });
  let requests = 0;
  if (options.warmup > 0) {
    const warm = await runLoad(entry.server, entry.workload, { duration: options.warmup, connections: options.connections, sampleRss: false });
    requests += warm.requestsTotal;
  }
  await pause(200);
  const result = await runLoad(entry.server, entry.workload, { duration: options.duration, connections: options.connections });
  requests += result.requestsTotal;
  entry.requestsServed += requests;
  try {
    await verifyWorkload(entry.server, entry.workload);
  } catch (error) {
    throw new Error(`${entry.label} stopped answering correctly after round ${round + 1}; aborting. ${error.message}`);
  }
  const after = await entry.server.memory({ gc: true });
  const retained = before.gcAvailable ? Math.round((heapOf(after) - heapOf(before)) / requests) : null;
  return { round: round + 1, quietWait: quiet, ...result, retainedHeapBytesPerRequest: retained, heapAfterGcBytes: heapOf(after) };
}

async function main() {
  const options = parseOptions();
  if (!existsSync(here('../dist/server.js'))) throw new Error('dist/ is missing: run `npm run build` first (npm run bench does it).');
  const key = randomBytes(32).toString('base64url');
  const machine = machineInfo();
  const profileDir = here('./results/profiles');
  if (options.profile) options.fresh = false; // one profile per server, over its whole life

  log('mcp-warden benchmark');
  log(`machine : ${machine.cpuModel}, ${machine.cores} cores, ${machine.memoryGiB} GiB, ${machine.platform}`);
  log(`node    : ${machine.node}   date: ${machine.date}`);
  log(
    `tools   : autocannon ${machine.versions.autocannon}, SDK v1 ${machine.versions['@modelcontextprotocol/sdk']}, SDK v2 server ${machine.versions['@modelcontextprotocol/server']} ` +
      `(node adapter ${machine.versions['@modelcontextprotocol/node']}), fastmcp ${machine.versions.fastmcp}, fastify ${machine.versions.fastify}, express ${machine.versions.express}`,
  );
  log(
    `workload: tools/call echo {"text":"hello"}: 2025 rows on established sessions (one per connection), 2026 rows stateless with the _meta envelope; ${options.connections} connections, ` +
      `${options.rounds} round(s) × ${options.duration}s measured (+${options.warmup}s warm-up), median round reported`,
  );
  if (options.quick) log('mode    : --quick (smoke run: figures are indicative only)');
  log();

  /** @type {Array<any>} */
  const entries = [];
  const stopAll = () => Promise.allSettled(entries.map((entry) => entry.server?.stop()));
  process.once('SIGINT', () => {
    void stopAll().then(() => process.exit(130));
  });

  let redis;
  if (options.servers.some((spec) => spec.name === 'warden-redis')) {
    redis = await startBenchRedis();
    options.redisUrl = redis.url;
  }
  try {
    for (const spec of options.servers) {
      const entry = { ...spec, server: undefined, rounds: [], discarded: [], idleSamples: [], starts: 0, measuredOnce: false, requestsServed: 0 };
      entries.push(entry);
      const idle = await startEntry(entry, options, key);
      const facts = Object.entries(entry.info).map(([name, value]) => `${name}: ${value}`);
      log(
        `started ${spec.label.padEnd(26)} ${entry.server.url}  idle RSS ${(idle.rss / 1e6).toFixed(1)} MB  ` +
          `answer ${entry.workload.answer.contentType.split(';')[0]}${facts.length > 0 ? `  (${facts.join('; ')})` : ''}`,
      );
    }
    log();

    for (let round = 0; round < options.rounds; round++) {
      // Rotate the order each round so no server always follows the same neighbour.
      const order = entries.map((_, i) => entries[(i + round) % entries.length]);
      for (const entry of order) {
        for (let attempt = 0; ; attempt++) {
          const result = await measureOnce(entry, entries, options, round, key);
          const noisy = result.cpu !== null && result.cpu.otherCores > NOISY_CORES;
          const retry = noisy && attempt < options.retryNoisy;
          const bad = badResponses(result);
          log(
            `round ${round + 1}/${options.rounds}  ${entry.label.padEnd(26)} ${Math.round(result.requestsPerSec).toLocaleString('en-US').padStart(7)} req/s  ` +
              `p50 ${result.latencyMs.p50.toFixed(2)} ms  p99 ${result.latencyMs.p99.toFixed(2)} ms  RSS ${(result.rssPeak / 1e6).toFixed(1)} MB` +
              (result.cpu === null ? '' : `  cores: server ${result.cpu.serverCores.toFixed(2)}, client ${result.cpu.runnerCores.toFixed(2)}, other ${result.cpu.otherCores.toFixed(2)}`) +
              (noisy ? (retry ? '  (noisy: other processes busy; discarded, measuring again)' : '  (noisy: other processes busy)') : '') +
              (bad > 0 ? `  !! non-2xx ${result.non2xx}, not the echo result ${result.mismatches}, errors ${result.errors}, timeouts ${result.timeouts} ${JSON.stringify(result.statusCodes)}` : ''),
          );
          if (retry && bad === 0) {
            entry.discarded.push(result);
            await pause(300);
            continue;
          }
          entry.rounds.push(result);
          break;
        }
        await pause(300);
      }
    }
  } catch (error) {
    await stopAll();
    await redis?.stop();
    throw error;
  }
  await stopAll();
  await redis?.stop();

  for (const entry of entries) {
    entry.medianRound = medianIndex(entry.rounds.map((round) => round.requestsPerSec));
    entry.median = entry.rounds[entry.medianRound];
    // Idle RSS: median over every start of the server (one per measured run unless --no-fresh).
    entry.idle = entry.idleSamples[medianIndex(entry.idleSamples.map((sample) => sample.rss))];
    const retained = entry.rounds.map((round) => round.retainedHeapBytesPerRequest).filter((value) => value !== null);
    entry.retainedBytesPerRequest = retained.length > 0 ? median(retained) : undefined;
    const cpuCosts = entry.rounds.map((round) => round.cpuUsPerRequest).filter((value) => value !== null);
    entry.cpuUsPerRequest = cpuCosts.length > 0 ? median(cpuCosts) : undefined;
  }
  const byName = Object.fromEntries(entries.map((entry) => [entry.name, entry]));

  /** @type {Record<string, ReturnType<typeof summariseProfile>>} */
  const profiles = {};
  if (options.profile) {
    for (const entry of entries) {
      const file = `${profileDir}/${entry.name}.cpuprofile`;
      if (existsSync(file)) profiles[entry.name] = summariseProfile(file, { requests: entry.requestsServed });
    }
  }

  let micro;
  if (options.micro) {
    log();
    log('micro-benchmarks (node --expose-gc bench/micro.mjs) …');
    const quiet = await waitForQuiet([], { threshold: NOISY_CORES, maxWaitMs: options.quietWait * 1000 });
    if (!quiet.quiet) log(`   (machine busy: other processes used ${quiet.otherCores} cores; measuring anyway)`);
    micro = await runMicro(options.quick);
    micro.quietWait = quiet;
  }

  const ratio = ratios(byName);
  const verdictList = verdicts({ byName, ratio, micro, connections: options.connections });
  const invalid = entries.filter((entry) => entry.rounds.some((round) => badResponses(round) > 0));

  log();
  log(`== HTTP: median of ${options.rounds} round(s), ${options.duration}s each, ${options.connections} connections ==`);
  log(serverTable(entries));
  const metricsState = byName['warden-on']?.info.metrics ?? byName['warden-off']?.info.metrics ?? 'not measured';
  log(`metrics (prom-client) in warden-on: ${metricsState}${metricsState === 'not yet implemented' ? '; warden-on runs without them (switch: METRICS_OPTIONS in bench/servers/warden.mjs)' : ''}`);
  if (invalid.length > 0) log(`!! non-2xx responses, answers other than the echo result, errors or timeouts during the runs of: ${invalid.map((entry) => entry.label).join(', ')} (must be 0)`);
  log();
  log('== Ratios (req/s) ==');
  log(ratioLines(ratio));
  if (micro !== undefined) {
    log();
    log('== Micro-benchmarks ==');
    log(microTable(micro));
  }
  log();
  log('== Targets ==');
  log(verdictTable(verdictList));
  for (const [name, profile] of Object.entries(profiles)) {
    log();
    log(
      `== CPU profile of ${name}: self time over the child's life (start-up included), ${profile.busyMs} ms busy, ` +
        `${profile.idleMs} ms idle, ${profile.requests.toLocaleString('en-US')} timed requests ==`,
    );
    log(`   ${profile.file}`);
    log(table(['function', 'location', 'self ms', '%', 'µs/req'], profile.topFunctions.map((f) => [f.function, f.location, f.selfMs, f.percent, f.usPerRequest ?? ''])));
    log();
    log(table(['package', 'self ms', '%', 'µs/req'], profile.byPackage.slice(0, 15).map((p) => [p.package, p.selfMs, p.percent, p.usPerRequest ?? ''])));
  }

  const results = {
    machine,
    options: { ...options, servers: options.servers.map((server) => server.name) },
    workload: {
      request: 'POST /mcp tools/call echo {"text":"hello"}',
      sessions: '2025 rows: one established session per connection (initialize + notifications/initialized), Mcp-Session-Id and MCP-Protocol-Version on every call',
      modern: `2026 rows: no session; params._meta with io.modelcontextprotocol/protocolVersion ${MODERN_PROTOCOL_VERSION}, clientCapabilities {}, clientInfo; headers MCP-Protocol-Version, Mcp-Method: tools/call, Mcp-Name: echo`,
      headers: 'Content-Type: application/json; Accept: application/json, text/event-stream; Authorization: Bearer <run key>',
      checked: 'every response body: a JSON-RPC 2.0 result with the call id and the echoed text (2026 rows: resultType "complete"); anything else counts as a mismatch, never as throughput',
      units: 'req/s: autocannon per-second average; latency: ms, per response (2xx only); memory: bytes (tables print MB = 1e6 B)',
    },
    metrics: metricsState,
    servers: entries.map((entry) => ({
      name: entry.name,
      label: entry.label,
      info: entry.info,
      era: entry.era,
      protocolVersion: entry.workload.protocolVersion,
      answer: entry.workload.answer,
      idle: { rss: entry.idle.rss, heapUsed: entry.idle.heapUsed, heapTotal: entry.idle.heapTotal, external: entry.idle.external, arrayBuffers: entry.idle.arrayBuffers },
      idleRssSamples: entry.idleSamples.map((sample) => sample.rss),
      starts: entry.starts,
      retainedHeapBytesPerRequestMedian: entry.retainedBytesPerRequest ?? null,
      medianRound: entry.medianRound + 1,
      cpuUsPerRequestMedian: entry.cpuUsPerRequest ?? null,
      requestsServed: entry.requestsServed,
      median: entry.median,
      rounds: entry.rounds,
      discardedNoisyRuns: entry.discarded,
    })),
    ratios: ratio,
    micro: micro ?? null,
    targets: verdictList,
    profiles,
  };
  mkdirSync(here('./results'), { recursive: true });
  writeFileSync(options.out, `${JSON.stringify(results, null, 2)}\n`);
  log();
  log(`results written to ${options.out}`);
  if (invalid.length > 0) process.exitCode = 1;
}

main().catch((error) => {
  console.error(`bench: ${error.message}`);
  process.exit(1);
});

/**
 * @module bench/lib/report
 * Turns the raw results into the printed table, ratios and target verdicts. Units are decimal:
 * MB = 10^6 bytes, KB = 10^3 bytes (the stricter reading of the targets).
 */

const MB = 1e6;

export const TARGETS = Object.freeze({
  vsSdk: 4,
  vsRaw: 0.6,
  securityLoss: 0.1,
  p99Ms: 5,
  p99Connections: 32,
  rateLimitBytesPerClient: 200,
  bytesPerIdleSession: 8_000,
  idleRssBytes: 80 * MB,
  redisVsMemory: 0.7,
  // The 2026-07-28 era (issue 12, Must 8): warden-modern-on against the v2 SDK's documented
  // handler, raw node:http, warden's own 2025 session path, and warden-modern-off.
  modernVsSdkV2: 5,
  modernVsRaw: 0.3,
  modernVsLegacy: 1,
  modernSecurityLoss: 0.1,
});

/**
 * Responses of a run that do not count: non-2xx, bodies other than the echo result
 * (autocannon mismatches: every non-2xx body is one too, hence the max), errors and timeouts.
 */
export function badResponses(run) {
  return Math.max(run.non2xx, run.mismatches ?? 0) + run.errors + run.timeouts;
}

function pad(text, width, right = false) {
  const value = String(text);
  return right ? value.padStart(width) : value.padEnd(width);
}

/** Renders rows (arrays of cells) with a header; numeric-looking columns right-aligned. */
export function table(header, rows) {
  const widths = header.map((cell, i) => Math.max(String(cell).length, ...rows.map((row) => String(row[i]).length)));
  const right = header.map((_, i) => i > 0);
  const line = (row) => row.map((cell, i) => pad(cell, widths[i], right[i])).join('  ');
  return [line(header), widths.map((w) => '-'.repeat(w)).join('  '), ...rows.map(line)].join('\n');
}

const int = (value) => (Number.isFinite(value) ? Math.round(value).toLocaleString('en-US') : 'n/a');
const fixed = (value, digits) => (Number.isFinite(value) ? value.toFixed(digits) : 'n/a');
const mb = (bytes) => (Number.isFinite(bytes) ? (bytes / MB).toFixed(1) : 'n/a');

/** The main table: one row per server, its median round. */
export function serverTable(servers) {
  const header = ['server', 'req/s', 'p50 ms', 'p99 ms', 'idle RSS MB', 'RSS load MB', 'bad resp.', 'CPU µs/req', 'kept B/req', 'cores srv/cli/other', 'req/s by round'];
  const rows = servers.map((server) => {
    const m = server.median;
    return [
      server.label,
      int(m?.requestsPerSec),
      fixed(m?.latencyMs.p50, 2),
      fixed(m?.latencyMs.p99, 2),
      mb(server.idle.rss),
      mb(m?.rssPeak),
      String(server.rounds.reduce((sum, round) => sum + badResponses(round), 0)),
      int(server.cpuUsPerRequest),
      int(server.retainedBytesPerRequest),
      m?.cpu ? `${fixed(m.cpu.serverCores, 2)}/${fixed(m.cpu.runnerCores, 2)}/${fixed(m.cpu.otherCores, 2)}` : 'n/a',
      server.rounds.map((round) => int(round.requestsPerSec)).join(' / '),
    ];
  });
  return table(header, rows);
}

/**
 * Ratios between servers (undefined when a server was not run).
 *
 * @param {Record<string, any>} byName
 */
export function ratios(byName) {
  // A run with wrong answers measures nothing: its server gives no ratio (n/a), never a figure.
  const valid = (run) => run !== undefined && badResponses(run) === 0;
  const rps = (name) => (valid(byName[name]?.median) ? byName[name].median.requestsPerSec : undefined);
  const on = rps('warden-on');
  const divide = (a, b) => (Number.isFinite(a) && Number.isFinite(b) && b > 0 ? a / b : undefined);
  const vsOff = divide(on, rps('warden-off'));
  // Paired: warden-on over the other server within each round (they ran minutes apart at most,
  // on the same machine state), then the median over rounds. Robust to drift across a run.
  const paired = (other, base = 'warden-on') => {
    const a = byName[base]?.rounds ?? [];
    const b = byName[other]?.rounds ?? [];
    const values = [];
    for (const round of a) {
      const match = b.find((candidate) => candidate.round === round.round);
      if (valid(round) && valid(match) && match.requestsPerSec > 0) values.push(round.requestsPerSec / match.requestsPerSec);
    }
    if (values.length === 0) return undefined;
    values.sort((x, y) => x - y);
    const middle = Math.floor(values.length / 2);
    return values.length % 2 === 1 ? values[middle] : (values[middle - 1] + values[middle]) / 2;
  };
  const pairedOff = paired('warden-off');
  const modernPairedOff = paired('warden-modern-off', 'warden-modern-on');
  const modern = rps('warden-modern-on');
  const modernVsOff = divide(modern, rps('warden-modern-off'));
  // The same comparisons from server CPU time per request (median over rounds): cost ratios,
  // inverted so that they read like the throughput ratios (higher = warden-on cheaper).
  const cpu = (name) => (byName[name]?.rounds?.every(valid) ? byName[name].cpuUsPerRequest : undefined);
  const cheaper = (other, base = 'warden-on') => divide(cpu(other), cpu(base));
  return {
    paired: {
      wardenOnVsSdkExpress: paired('sdk-express'),
      wardenOnVsRawNode: paired('raw-node'),
      wardenOnVsWardenOff: pairedOff,
      securityLoss: pairedOff === undefined ? undefined : 1 - pairedOff,
      wardenOnVsFastmcp: paired('fastmcp'),
      wardenRedisVsWardenOn: paired('warden-on', 'warden-redis'),
      modernOnVsSdkV2: paired('sdk-v2-ref', 'warden-modern-on'),
      modernOnVsRawNode: paired('raw-node', 'warden-modern-on'),
      modernOnVsWardenOn: paired('warden-on', 'warden-modern-on'),
      modernOnVsModernOff: modernPairedOff,
      // (modern_off - modern_on) / modern_off, from the per-round ratio.
      modernSecurityLoss: modernPairedOff === undefined ? undefined : 1 - modernPairedOff,
      sdkV2VsSdkExpress: paired('sdk-express', 'sdk-v2-ref'),
    },
    byCpuPerRequest: {
      wardenOnVsSdkExpress: cheaper('sdk-express'),
      wardenOnVsRawNode: cheaper('raw-node'),
      wardenOnVsWardenOff: cheaper('warden-off'),
      wardenOnVsFastmcp: cheaper('fastmcp'),
      modernOnVsSdkV2: cheaper('sdk-v2-ref', 'warden-modern-on'),
      modernOnVsRawNode: cheaper('raw-node', 'warden-modern-on'),
      modernOnVsWardenOn: cheaper('warden-on', 'warden-modern-on'),
      modernOnVsModernOff: cheaper('warden-modern-off', 'warden-modern-on'),
    },
    wardenOnVsSdkExpress: divide(on, rps('sdk-express')),
    wardenOnVsRawNode: divide(on, rps('raw-node')),
    wardenOnVsWardenOff: vsOff,
    securityLoss: vsOff === undefined ? undefined : 1 - vsOff,
    wardenOnVsFastmcp: divide(on, rps('fastmcp')),
    wardenOffVsRawNode: divide(rps('warden-off'), rps('raw-node')),
    wardenRedisVsWardenOn: divide(rps('warden-redis'), on),
    modernOnVsSdkV2: divide(modern, rps('sdk-v2-ref')),
    modernOnVsRawNode: divide(modern, rps('raw-node')),
    modernOnVsWardenOn: divide(modern, on),
    modernOnVsModernOff: modernVsOff,
    modernSecurityLoss: modernVsOff === undefined ? undefined : 1 - modernVsOff,
    sdkV2VsSdkExpress: divide(rps('sdk-v2-ref'), rps('sdk-express')),
  };
}

/**
 * One verdict per target: PASS/MISS and by how much, or n/a when its input was not measured.
 */
export function verdicts({ byName, ratio, micro, connections }) {
  const out = [];
  const add = (target, measured, goal, direction, format, extra = '') => {
    if (measured === undefined || !Number.isFinite(measured)) {
      out.push({ target, measured: null, goal, pass: null, margin: 'n/a (not measured, or wrong answers)' });
      return;
    }
    const pass = direction === '>=' ? measured >= goal : measured <= goal;
    const relative = direction === '>=' ? measured / goal - 1 : measured / goal - 1;
    let margin;
    if (direction === '>=') margin = pass ? `${fixed(relative * 100, 1)}% above the goal` : `${fixed(-relative * 100, 1)}% short (needs ${fixed(goal / measured, 2)}x)`;
    else margin = pass ? `${fixed(-relative * 100, 1)}% under the limit` : `${fixed(relative * 100, 1)}% over the limit`;
    out.push({ target, measured, goal, direction, pass, shown: `${format(measured)} vs ${direction} ${format(goal)}`, margin: margin + extra });
  };
  const times = (value) => `${fixed(value, 2)}x`;
  const percent = (value) => `${fixed(value * 100, 1)}%`;

  // Throughput targets use the paired per-round ratios (see ratios()).
  add('full-security throughput ≥ 4x SDK reference', ratio.paired.wardenOnVsSdkExpress, TARGETS.vsSdk, '>=', times);
  add('full-security throughput ≥ 60% of raw node:http', ratio.paired.wardenOnVsRawNode, TARGETS.vsRaw, '>=', percent);
  add('Redis-backed throughput ≥ 70% of in-memory (one replica)', ratio.paired.wardenRedisVsWardenOn, TARGETS.redisVsMemory, '>=', percent);
  const addLoss = (target, loss, goal) => {
    const before = out.length;
    add(target, loss, goal, '<=', percent);
    const entry = out[before];
    if (entry.pass !== null) entry.margin = entry.pass ? `${fixed((goal - loss) * 100, 1)} points under the limit` : `${fixed((loss - goal) * 100, 1)} points over the limit`;
  };
  addLoss('security-on vs security-off loss ≤ 10%', ratio.paired.securityLoss, TARGETS.securityLoss);
  add(
    `p99 ≤ 5 ms at ${TARGETS.p99Connections} connections (warden on)`,
    byName['warden-on']?.median?.latencyMs.p99,
    TARGETS.p99Ms,
    '<=',
    (v) => `${fixed(v, 2)} ms`,
    connections === TARGETS.p99Connections ? '' : ` (measured at ${connections} connections, not ${TARGETS.p99Connections})`,
  );
  for (const row of micro?.rateLimitMemory ?? []) {
    add(`≤ 200 B per tracked rate-limit client (${int(row.clients)} clients)`, row.bytesPerClient, TARGETS.rateLimitBytesPerClient, '<=', (v) => `${int(v)} B`);
  }
  for (const row of micro?.sessionMemory?.rows ?? []) {
    add(`≤ 8 KB per idle session (${int(row.sessions)} sessions)`, row.bytesPerSession, TARGETS.bytesPerIdleSession, '<=', (v) => `${fixed(v / 1000, 1)} KB`);
  }
  add('idle RSS ≤ 80 MB (warden on)', byName['warden-on']?.idle?.rss, TARGETS.idleRssBytes, '<=', (v) => `${mb(v)} MB`);
  // 2026-07-28 era (paired per-round ratios, as above).
  add('2026: modern-on ≥ 5x SDK v2 reference', ratio.paired.modernOnVsSdkV2, TARGETS.modernVsSdkV2, '>=', times);
  add('2026: modern-on ≥ 30% of raw node:http', ratio.paired.modernOnVsRawNode, TARGETS.modernVsRaw, '>=', percent);
  add('2026: modern-on ≥ 1x warden-on (2025 sessions)', ratio.paired.modernOnVsWardenOn, TARGETS.modernVsLegacy, '>=', times);
  addLoss('2026: (modern-off − modern-on) / modern-off ≤ 10%', ratio.paired.modernSecurityLoss, TARGETS.modernSecurityLoss);
  return out;
}

export function verdictTable(list) {
  return table(
    ['target', 'measured vs goal', 'verdict', 'by how much'],
    list.map((v) => [v.target, v.shown ?? '', v.pass === null ? 'n/a' : v.pass ? 'PASS' : 'MISS', v.margin]),
  );
}

export function microTable(micro) {
  const us = (timing) => `${fixed(timing.best, 3)} µs/op (median batch ${fixed(timing.median, 3)})`;
  const rows = [
    ['auth check: KeyRing.verify, valid key', us(micro.authCheck.validKeyUs)],
    ['auth check: KeyRing.verify, invalid key', us(micro.authCheck.invalidKeyUs)],
    ['rate-limit check: consume, warm key (1e6 per 10 s)', us(micro.rateLimitCheck.warmKeyUs)],
    ['rate-limit check: consume, warm key (default 60 s window)', us(micro.rateLimitCheck.warmKeyDefaultWindowUs)],
    ['log line: request line → /dev/null (bound child logger)', us(micro.logLine.lineUs)],
    ['log line: same, plus logger.child() per request', us(micro.logLine.lineWithChildLoggerUs)],
  ];
  const engine = (timing) => `${fixed(timing.best, 1)} µs/op (median batch ${fixed(timing.median, 1)}), ${int(timing.allocatedBytesPerOp)} B allocated/op`;
  if (micro.modernEngine !== undefined) {
    rows.push(['2026 tools/call: createMcpHandler per request (SDK)', engine(micro.modernEngine.perRequest)]);
    rows.push([
      `2026 tools/call: long-lived instance${micro.modernEngine.longLived === null ? '' : ` (${micro.modernEngine.longLived.label})`}`,
      micro.modernEngine.longLived === null ? 'n/a (no long-lived modern engine in this build)' : engine(micro.modernEngine.longLived),
    ]);
  }
  for (const row of micro.rateLimitMemory) {
    rows.push([
      `rate-limit memory, ${int(row.clients)} clients`,
      `${int(row.bytesPerClient)} B/client (typed arrays ${int(row.typedArrayBytesPerClient)} B incl. growth slack)`,
    ]);
  }
  for (const row of micro.sessionMemory.rows) {
    rows.push([`idle session memory, ${int(row.sessions)} sessions`, `${int(row.bytesPerSession)} B/session heap (RSS +${int(row.rssPerSessionBytes)} B/session)`]);
  }
  return table(['micro-benchmark', 'result'], rows);
}

export function ratioLines(ratio) {
  const times = (v) => (v === undefined ? 'n/a' : `${v.toFixed(2)}x`);
  const percent = (v) => (v === undefined ? 'n/a' : `${(v * 100).toFixed(1)}%`);
  const p = ratio.paired;
  return [
    '                          of the medians   median of per-round ratios (used for the targets)',
    `warden-on / sdk-express : ${times(ratio.wardenOnVsSdkExpress).padStart(14)}   ${times(p.wardenOnVsSdkExpress)}`,
    `warden-on / raw-node    : ${percent(ratio.wardenOnVsRawNode).padStart(14)}   ${percent(p.wardenOnVsRawNode)}`,
    `warden-on / warden-off  : ${percent(ratio.wardenOnVsWardenOff).padStart(14)}   ${percent(p.wardenOnVsWardenOff)}  ` +
      `(security loss ${percent(ratio.securityLoss)} / ${percent(p.securityLoss)})`,
    `warden-on / fastmcp     : ${times(ratio.wardenOnVsFastmcp).padStart(14)}   ${times(p.wardenOnVsFastmcp)}`,
    `warden-off / raw-node   : ${percent(ratio.wardenOffVsRawNode).padStart(14)}`,
    `warden-redis / warden-on: ${percent(ratio.wardenRedisVsWardenOn).padStart(14)}   ${percent(p.wardenRedisVsWardenOn)}  (Redis-backed limits and sessions vs in-memory)`,
    '2026-07-28 era:',
    `modern-on / sdk-v2-ref  : ${times(ratio.modernOnVsSdkV2).padStart(14)}   ${times(p.modernOnVsSdkV2)}`,
    `modern-on / raw-node    : ${percent(ratio.modernOnVsRawNode).padStart(14)}   ${percent(p.modernOnVsRawNode)}`,
    `modern-on / warden-on   : ${times(ratio.modernOnVsWardenOn).padStart(14)}   ${times(p.modernOnVsWardenOn)}  (stateless 2026 requests vs 2025 sessions, same server)`,
    `modern-on / modern-off  : ${percent(ratio.modernOnVsModernOff).padStart(14)}   ${percent(p.modernOnVsModernOff)}  ` +
      `(security loss ${percent(ratio.modernSecurityLoss)} / ${percent(p.modernSecurityLoss)})`,
    `sdk-v2-ref / sdk-express: ${times(ratio.sdkV2VsSdkExpress).padStart(14)}   ${times(p.sdkV2VsSdkExpress)}  (the two SDK references)`,
    '',
    'the same from server CPU time per request (median over rounds; unaffected by how much CPU the load generator takes):',
    `warden-on vs sdk-express: ${times(ratio.byCpuPerRequest.wardenOnVsSdkExpress)}   vs raw-node: ${percent(ratio.byCpuPerRequest.wardenOnVsRawNode)}   ` +
      `vs warden-off: ${percent(ratio.byCpuPerRequest.wardenOnVsWardenOff)}   vs fastmcp: ${times(ratio.byCpuPerRequest.wardenOnVsFastmcp)}`,
    `modern-on vs sdk-v2-ref : ${times(ratio.byCpuPerRequest.modernOnVsSdkV2)}   vs raw-node: ${percent(ratio.byCpuPerRequest.modernOnVsRawNode)}   ` +
      `vs warden-on: ${times(ratio.byCpuPerRequest.modernOnVsWardenOn)}   vs modern-off: ${percent(ratio.byCpuPerRequest.modernOnVsModernOff)}`,
  ].join('\n');
}

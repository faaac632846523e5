/**
 * `mcp-warden check` against our own server (real HTTP on an ephemeral loopback port): with
 * the key it reports both eras and every default check passes, each modern audit included;
 * without it the key-dependent parts (the eras among them) are skipped, never failed; a wrong
 * key fails `auth`; `--json` matches the text; `--call-tools` calls the built-in tools; `rate`
 * finds the limit; colour only on a TTY without NO_COLOR.
 */

import { describe, expect, it } from 'vitest';
import { runCheck } from '../../src/cli/check.js';
import { DEFAULT_CHECKS } from '../../src/operator/check/types.js';
import { apiStatus, send } from '../helpers/http.js';
import { stillServing, useSharedWarden } from '../helpers/warden.js';
import { captureIo, resultOf, STACK_FRAME, textStatuses } from './helpers.js';

describe('check against mcp-warden with its key', () => {
  // A roomy limit: these audits together send a few hundred requests.
  const warden = useSharedWarden({ options: { rateLimit: 1000 } });

  it('reports both eras, passes every default check (every modern audit included) and exits 0', async () => {
    const out = captureIo();
    const { exitCode, report } = await runCheck({ url: warden.mcpUrl, apiKey: warden.key }, out.io);
    expect(exitCode).toBe(0);
    expect(report?.results.map((result) => result.test)).toEqual(DEFAULT_CHECKS);
    for (const result of report?.results ?? []) expect({ test: result.test, status: result.status, reason: result.reason }).toMatchObject({ status: 'PASS' });
    expect(report?.summary).toMatchObject({ total: 9, pass: 9, fail: 0, warn: 0, skip: 0, failed: [] });
    expect(report?.eras).toEqual(['2026-07-28', '2025-11-25']);
    expect(report?.eraProbe).toMatchObject({ modern: { state: 'spoken', supportedVersions: ['2026-07-28'] }, legacy: { state: 'spoken', version: '2025-11-25' } });

    const text = out.stdout();
    expect(text).toMatch(/^Eras: 2026-07-28, 2025-11-25$/m);
    expect(textStatuses(text)).toEqual(Object.fromEntries(DEFAULT_CHECKS.map((name) => [name, 'PASS'])));
    expect(text).toContain('9 checks: 9 passed, 0 failed, 0 warnings, 0 skipped');
    expect(text).not.toContain('Failed:');
    expect(text).toContain('[OWASP API2:2023 Broken Authentication');
    expect(text).not.toContain('\u001b[');
    expect(out.stderr()).toBe('');
    // The key is a secret: never printed, never in the report.
    expect(text).not.toContain(warden.key);
    expect(JSON.stringify(report)).not.toContain(warden.key);

    // What each check observed, on our server.
    expect(resultOf(report, 'auth').reason).toBe('no key → 401 with a Bearer challenge; a wrong key → 401 with a Bearer challenge; the given key → 200; a key in the query string → 401');
    expect(resultOf(report, 'origin').reason).toBe('Origin: https://mcp-warden-check.invalid → 403 (without Origin → 200)');
    expect(resultOf(report, 'protocol').reason).toContain('MCP-Protocol-Version: 1999-01-01 → 400; a forged Mcp-Session-Id → 404; malformed JSON → 400 -32700');
    expect(resultOf(report, 'mcp').details).toMatchObject({ protocolVersion: '2025-11-25', server: { name: 'mcp-warden' }, sessions: true });
    // Each modern MUST, as mcp-warden answers it with the key: expected and got agree.
    const modern = resultOf(report, 'modern');
    const steps = (modern.details as { steps: Array<{ name: string; status: string; expected?: string; got?: string }> }).steps;
    expect(Object.fromEntries(steps.map((item) => [item.name, [item.status, item.got]]))).toEqual({
      'Mcp-Name': ['PASS', '400 -32020'],
      'Mcp-Method': ['PASS', '400 -32020'],
      'version mismatch': ['PASS', '400 -32020'],
      'unsupported version': ['PASS', '400 -32022 with data.supported ["2026-07-28","2025-11-25","2025-06-18","2025-03-26"]'],
      'unknown method': ['PASS', '404 -32601'],
      origin: ['PASS', '403 -32000'],
      'cache hints': ['PASS', 'server/discover ttlMs 0, cacheScope "private"; tools/list ttlMs 0, cacheScope "private"'],
      'result type': ['PASS', 'resultType complete'],
    });
    expect(modern.reason).toContain('server/discover with Origin: https://mcp-warden-check.invalid → 403 -32000 (without Origin → 200)');
    // The audit closes every session it opened (raw probes and the SDK client alike).
    const status = await apiStatus(warden, warden.key);
    expect(status.json<{ activeSessions: number }>().activeSessions).toBe(0);
    expect(await stillServing(warden)).toBe(true);
  });

  it('--json prints exactly one JSON document whose results match the text report', async () => {
    const json = captureIo();
    const text = captureIo();
    const fromJson = await runCheck({ url: warden.mcpUrl, apiKey: warden.key, json: true }, json.io);
    const fromText = await runCheck({ url: warden.mcpUrl, apiKey: warden.key }, text.io);
    expect(fromJson.exitCode).toBe(0);

    const document = JSON.parse(json.stdout()) as Record<string, unknown> & { results: Array<Record<string, unknown>>; summary: Record<string, unknown> };
    expect(Object.keys(document)).toEqual(['tool', 'target', 'healthUrl', 'time', 'durationMs', 'eras', 'eraProbe', 'results', 'summary']);
    expect(document['eras']).toEqual(fromText.report?.eras);
    expect(document['target']).toBe(warden.mcpUrl);
    expect(document['healthUrl']).toBe(`${warden.url}/health`);
    expect(Number.isNaN(Date.parse(document['time'] as string))).toBe(false);
    for (const result of document.results) expect(Object.keys(result).slice(0, 4)).toEqual(['test', 'status', 'reason', 'reference']);
    expect(Object.fromEntries(document.results.map((result) => [result['test'], result['status']]))).toEqual(textStatuses(text.stdout()));
    expect(document.summary).toEqual(fromText.report?.summary);
    expect(json.stdout()).not.toContain(warden.key);
    expect(json.stderr()).toBe('');
  });

  it('--call-tools calls each built-in tool once and reports each outcome', async () => {
    const out = captureIo();
    const { exitCode, report } = await runCheck({ url: warden.mcpUrl, apiKey: warden.key, test: 'mcp', callTools: true, json: true }, out.io);
    expect(exitCode).toBe(0);
    const mcp = resultOf(report, 'mcp');
    expect(mcp.status).toBe('PASS');
    const calls = (mcp.details as { calls: Array<{ tool: string; status: string; note?: string; arguments?: unknown }> }).calls;
    expect(calls.map((call) => call.tool).sort()).toEqual(['calculate', 'current_time', 'echo', 'hash_text', 'server_status', 'system_info']);
    const byTool = Object.fromEntries(calls.map((call) => [call.tool, call]));
    expect(byTool['echo']).toMatchObject({ status: 'ok', arguments: { text: 'mcp-warden-check' }, note: 'mcp-warden-check' });
    expect(byTool['hash_text']).toMatchObject({ status: 'ok', note: 'aef2c4315eeda3e795cac9ffdfc41c1a3e64b68ad5c1008a327197de67d3a5b2' });
    expect(byTool['current_time']).toMatchObject({ status: 'ok', arguments: {} });
    // "mcp-warden-check" is not an arithmetic expression: a tool error, reported as such.
    expect(byTool['calculate']).toMatchObject({ status: 'tool error' });
    expect(mcp.reason).toContain('6 tools; called 6: 1 tool error, 5 ok');
    // The server really ran them.
    const called = warden.logs().filter((line) => line['mcpMethod'] === 'tools/call').map((line) => line['tool']);
    for (const tool of ['calculate', 'current_time', 'echo', 'hash_text', 'server_status', 'system_info']) expect(called).toContain(tool);
  });

  it('does not call tools without --call-tools', async () => {
    const before = warden.logs().filter((line) => line['mcpMethod'] === 'tools/call').length;
    const { report } = await runCheck({ url: warden.mcpUrl, apiKey: warden.key, test: ['mcp'] }, captureIo().io);
    expect(resultOf(report, 'mcp')).toMatchObject({ status: 'PASS', reason: expect.stringContaining('6 tools (not called: pass --call-tools)') });
    expect(warden.logs().filter((line) => line['mcpMethod'] === 'tools/call').length).toBe(before);
  });

  it('colours the status only on a TTY without NO_COLOR', async () => {
    const tty = captureIo({ isTTY: true });
    await runCheck({ url: warden.mcpUrl, test: 'health' }, tty.io);
    expect(tty.stdout()).toContain('\u001b[32mPASS\u001b[0m');
    const noColor = captureIo({ isTTY: true, env: { NO_COLOR: '1' } });
    await runCheck({ url: warden.mcpUrl, test: 'health' }, noColor.io);
    expect(noColor.stdout()).not.toContain('\u001b[');
    expect(noColor.stdout()).toMatch(/^PASS {2}health {4}GET \/health → 200 in \d+ ms {2}\[/m);
  });

  it('rate fails when --max-requests is spent without a 429', async () => {
    const { exitCode, report } = await runCheck({ url: warden.mcpUrl, apiKey: warden.key, test: 'rate', maxRequests: 25 }, captureIo().io);
    expect(exitCode).toBe(1);
    expect(resultOf(report, 'rate')).toMatchObject({ status: 'FAIL', reason: 'no 429 after 25 requests: no rate limit within --max-requests 25', details: { sent: 25 } });
  });
});

describe('check against mcp-warden without its key', () => {
  // Its own server: these audits send failed authentications on purpose, and mcp-warden
  // bans a client after 20 of them in a minute.
  const warden = useSharedWarden();

  it('without --api-key skips what needs the key and fails nothing', async () => {
    const out = captureIo();
    const { exitCode, report } = await runCheck({ url: warden.mcpUrl }, out.io);
    expect(exitCode).toBe(0);
    expect(resultOf(report, 'auth')).toMatchObject({ status: 'PASS', reason: expect.stringContaining('not tested: acceptance of the key (no --api-key given)') });
    expect(resultOf(report, 'origin')).toMatchObject({ status: 'PASS', reason: 'Origin: https://mcp-warden-check.invalid → 403 (without Origin → 401)' });
    expect(resultOf(report, 'protocol')).toMatchObject({ status: 'SKIP', reason: 'cannot open a session: the server requires authentication (401); pass --api-key' });
    expect(resultOf(report, 'mcp')).toMatchObject({ status: 'SKIP', reason: 'the server requires authentication (401); pass --api-key' });
    // Without a key the eras cannot be seen; "unknown" is not "not spoken", and one probe was enough to learn it.
    expect(report?.eras).toEqual([]);
    expect(report?.eraProbe?.legacy.observed).toBe('not probed: server/discover: the server requires authentication (401); pass --api-key');
    expect(resultOf(report, 'modern')).toMatchObject({ status: 'SKIP', reason: '2026-07-28 unknown: server/discover: the server requires authentication (401); pass --api-key' });
    expect(out.stdout()).toMatch(/^Eras: unknown \(server\/discover: the server requires authentication \(401\); pass --api-key\)$/m);
    expect(report?.summary.fail).toBe(0);
  });

  it('--origin and --health-url are used as given; a warning alone still exits 0', async () => {
    const out = captureIo();
    const { exitCode, report } = await runCheck({ url: warden.mcpUrl, test: 'health,origin', origin: 'https://attacker.example', healthUrl: '/nope' }, out.io);
    expect(exitCode).toBe(0);
    expect(resultOf(report, 'health')).toMatchObject({ status: 'WARN', reason: 'GET /nope → 404: no health endpoint there (use --health-url if it lives elsewhere)' });
    expect(resultOf(report, 'origin')).toMatchObject({ status: 'PASS', reason: 'Origin: https://attacker.example → 403 (without Origin → 401)' });
    expect(out.stdout()).toContain('2 checks: 1 passed, 0 failed, 1 warning, 0 skipped');
  });

  it('a wrong --api-key fails auth and exits 1', async () => {
    const out = captureIo();
    const { exitCode, report } = await runCheck({ url: warden.mcpUrl, apiKey: 'not-the-key-0123456789abcdef', test: 'auth' }, out.io);
    expect(exitCode).toBe(1);
    expect(resultOf(report, 'auth')).toMatchObject({ status: 'FAIL', reason: 'the given key → 401: refused (is it a valid key for this server?)' });
    expect(out.stdout()).toMatch(/^Failed: auth$/m);
    expect(out.stdout()).not.toMatch(STACK_FRAME);
  });

});

describe('check --test rate against a limited mcp-warden', () => {
  const warden = useSharedWarden({ options: { rateLimit: 20 } });

  it('finds the 429 with Retry-After after the limit and exits 0', async () => {
    const out = captureIo();
    const { exitCode, report } = await runCheck({ url: warden.mcpUrl, apiKey: warden.key, test: ['rate'] }, out.io);
    expect(exitCode).toBe(0);
    const rate = resultOf(report, 'rate');
    expect(rate.status).toBe('PASS');
    expect(rate.details).toMatchObject({ limitedAt: 21, retryAfter: expect.stringMatching(/^\d+$/) as unknown });
    // Bounded: it stops at the first 429 (at most the requests already in flight follow).
    expect((rate.details as { sent: number }).sent).toBeLessThanOrEqual(24);
    expect(out.stdout()).toMatch(/^PASS {2}rate {6}429 after 21 requests with Retry-After: \d+/m);
    // /health is exempt from the limit, so the server still answers probes.
    expect((await runCheck({ url: warden.mcpUrl, test: 'health' }, captureIo().io)).exitCode).toBe(0);
  });
});

describe('check against a stateless mcp-warden', () => {
  const warden = useSharedWarden({ options: { stateless: true } });

  it('skips the forged-session step (no session ids) and still passes protocol', async () => {
    const { report } = await runCheck({ url: warden.mcpUrl, apiKey: warden.key, test: 'protocol,mcp' }, captureIo().io);
    const protocol = resultOf(report, 'protocol');
    expect(protocol.status).toBe('PASS');
    expect(protocol.reason).toContain('not tested: forged session id (the server issued no session id: stateless)');
    expect(protocol.details).toMatchObject({ sessions: false });
    expect(resultOf(report, 'mcp')).toMatchObject({ status: 'PASS', details: { sessions: false } });
  });
});

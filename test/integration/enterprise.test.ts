/**
 * IP rules, the brute-force guard, the audit trail and Prometheus metrics, over real HTTP.
 * Client addresses are simulated with X-Forwarded-For behind `--trust-proxy 1`.
 */

import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import parsePrometheusTextFormat from 'parse-prometheus-text-format';
import { verifyAudit } from '../../src/observability/audit-verify.js';
import { apiStatus, initializeBody, mcpHeaders, send } from '../helpers/http.js';
import { connectClient, useWarden } from '../helpers/warden.js';

const BEHIND_PROXY = { trustProxy: { kind: 'hops' as const, hops: 1 } };

function from(ip: string, extra: Record<string, string> = {}): Record<string, string> {
  return { 'x-forwarded-for': ip, ...extra };
}

describe('IP rules', () => {
  it('a denied address gets 403 before any other work; others pass', async () => {
    const warden = await useWarden({ options: { ...BEHIND_PROXY, denyIps: ['203.0.113.0/24', '2001:db8:bad::/48'] } });
    const auth = { authorization: `Bearer ${warden.key}` };
    const denied = await send(`${warden.url}/api/status`, { headers: from('203.0.113.7', auth) });
    expect(denied.status).toBe(403);
    expect(denied.json()).toEqual({ error: 'ip_forbidden', message: 'Forbidden: address not allowed' });
    // Refused before the rate limiter and authentication saw it.
    expect(denied.headers['ratelimit-limit']).toBeUndefined();
    expect((await send(`${warden.url}/api/status`, { headers: from('2001:db8:bad:1::5', auth) })).status).toBe(403);
    expect((await send(`${warden.url}/api/status`, { headers: from('198.51.100.1', auth) })).status).toBe(200);
    expect((await send(`${warden.url}/api/status`, { headers: from('2001:db8:600d::1', auth) })).status).toBe(200);
    expect((await send(`${warden.url}/health`, { headers: from('203.0.113.7') })).status).toBe(200);
  });

  it('an allow list refuses everyone else', async () => {
    const warden = await useWarden({ options: { ...BEHIND_PROXY, allowIps: ['10.0.0.0/8'] } });
    const auth = { authorization: `Bearer ${warden.key}` };
    expect((await send(`${warden.url}/api/status`, { headers: from('10.20.30.40', auth) })).status).toBe(200);
    expect((await send(`${warden.url}/api/status`, { headers: from('11.0.0.1', auth) })).status).toBe(403);
    expect((await send(warden.mcpUrl, { method: 'POST', headers: from('11.0.0.1', mcpHeaders(warden.key)), body: initializeBody() })).json()).toEqual({
      jsonrpc: '2.0',
      error: { code: -32000, message: 'Forbidden: address not allowed' },
      id: null,
    });
  });
});

describe('brute-force guard', () => {
  it('bans a client after the threshold of auth failures in a minute, visibly, and only that client', async () => {
    const path = join(mkdtempSync(join(tmpdir(), 'warden-ban-')), 'audit.log');
    const warden = await useWarden({ options: { ...BEHIND_PROXY, banThreshold: 3, banSeconds: 60, auditLog: path } });
    const attacker = '198.51.100.66';
    for (let index = 0; index < 3; index++) {
      expect((await apiStatus(warden, `guess-${index}-0123456789abc`, from(attacker))).status).toBe(401);
    }
    const fourth = await apiStatus(warden, 'guess-4-0123456789abcdef', from(attacker));
    expect(fourth.status).toBe(401);
    // Banned now: even the right key is refused, with a Retry-After.
    const banned = await apiStatus(warden, warden.key, from(attacker));
    expect(banned.status).toBe(403);
    expect(banned.json()).toEqual({ error: 'ip_banned', message: 'Forbidden: temporarily banned after repeated authentication failures' });
    expect(Number(banned.headers['retry-after'])).toBeGreaterThan(50);

    const status = await apiStatus(warden, warden.key, from('198.51.100.1'));
    expect(status.status).toBe(200);
    const body = status.json<{ security: { bans: Array<{ client: string; until: string }>; recentEvents: Array<{ type: string; ip?: string }> } }>();
    expect(body.security.bans).toEqual([{ client: attacker, until: expect.any(String) }]);
    expect(body.security.recentEvents.some((event) => event.type === 'ip_banned' && event.ip === attacker)).toBe(true);
    expect(warden.logs().some((line) => line['level'] === 40 && line['msg'] === 'client banned after repeated authentication failures')).toBe(true);

    await warden.stop();
    const audit = readFileSync(path, 'utf8');
    expect(audit).toContain('"event":"ip_banned"');
    expect(audit).toContain(`"ip":"${attacker}"`);
  });
});

describe('audit trail on a running server', () => {
  it('records auth failures, refusals and tool calls with redacted arguments, verifies, and loses nothing on stop', async () => {
    const path = join(mkdtempSync(join(tmpdir(), 'warden-audit-')), 'audit.log');
    const warden = await useWarden({ options: { auditLog: path, auditArguments: 'hash', rateLimit: 1000 } });
    await apiStatus(warden, 'wrong-key-0123456789abcdef');
    await send(`${warden.url}/api/status`, { headers: { origin: 'https://evil.example' } });
    const { client } = await connectClient(warden);
    await client.callTool({ name: 'echo', arguments: { text: 'my secret note' } });
    await client.callTool({ name: 'calculate', arguments: { expression: '1/0' } });
    await client.close();
    await warden.stop();

    const records = readFileSync(path, 'utf8').trimEnd().split('\n').map((line) => JSON.parse(line) as Record<string, unknown>);
    const events = records.map((record) => record['event']);
    expect(events[0]).toBe('server_start');
    expect(events[events.length - 1]).toBe('server_stop');
    expect(records.find((record) => record['event'] === 'auth_failure')).toMatchObject({ reason: 'unknown_key', ip: '127.0.0.1', route: '/api/status' });
    expect(records.find((record) => record['event'] === 'denied')).toMatchObject({ reason: 'origin' });
    expect(records.find((record) => record['event'] === 'session_created')).toMatchObject({ principal: expect.stringMatching(/^key_/) });
    const echo = records.find((record) => record['event'] === 'tool_call' && record['tool'] === 'echo');
    expect(echo).toMatchObject({ outcome: 'ok', ip: '127.0.0.1', principal: expect.stringMatching(/^key_/), arguments: expect.stringMatching(/^sha256:[0-9a-f]{64}$/) });
    expect(records.find((record) => record['event'] === 'tool_call' && record['tool'] === 'calculate')).toMatchObject({ outcome: 'tool_error' });
    const text = readFileSync(path, 'utf8');
    expect(text).not.toContain('my secret note');
    expect(text).not.toContain(warden.key);
    expect(await verifyAudit([path])).toMatchObject({ ok: true, records: records.length });
    expect(warden.logs().some((line) => line['msg'] === 'audit log closed (chain head)' && line['auditSeq'] === records.length)).toBe(true);
  });
});

describe('Prometheus metrics', () => {
  it('GET /metrics requires a credential and parses as Prometheus text with the expected families', async () => {
    const warden = await useWarden({ options: { rateLimit: 1000 } });
    expect((await send(`${warden.url}/metrics`)).status).toBe(401);
    const { client } = await connectClient(warden);
    await client.callTool({ name: 'echo', arguments: { text: 'x' } });
    await client.callTool({ name: 'calculate', arguments: { expression: '1/0' } });
    await apiStatus(warden, 'nope-0123456789abcdefgh');

    const response = await send(`${warden.url}/metrics`, { headers: { authorization: `Bearer ${warden.key}` } });
    expect(response.status).toBe(200);
    expect(response.headers['content-type']).toMatch(/^text\/plain; version=0\.0\.4/);
    const families = parsePrometheusTextFormat(response.text) as Array<{ name: string; type: string; metrics: Array<{ labels?: Record<string, string>; value?: string; buckets?: unknown }> }>;
    const family = (name: string) => families.find((candidate) => candidate.name === name);
    expect(family('mcp_warden_http_requests_total')?.type).toBe('COUNTER');
    expect(family('mcp_warden_http_requests_total')?.metrics.some((metric) => metric.labels?.['route'] === '/mcp' && metric.labels?.['status'] === '200')).toBe(true);
    expect(family('mcp_warden_http_request_duration_seconds')?.type).toBe('HISTOGRAM');
    expect(family('mcp_warden_auth_failures_total')?.metrics).toEqual(
      expect.arrayContaining([
        { labels: { reason: 'no_credentials' }, value: '1' },
        { labels: { reason: 'unknown_key' }, value: '1' },
      ]),
    );
    expect(family('mcp_warden_tool_calls_total')?.metrics).toEqual(
      expect.arrayContaining([
        { labels: { tool: 'echo', outcome: 'ok' }, value: '1' },
        { labels: { tool: 'calculate', outcome: 'tool_error' }, value: '1' },
      ]),
    );
    expect(family('mcp_warden_active_sessions')?.metrics[0]?.value).toBe('1');
    expect(family('mcp_warden_nodejs_eventloop_lag_seconds')).toBeDefined();
    expect(family('mcp_warden_process_resident_memory_bytes')).toBeDefined();
    expect(family('mcp_warden_rate_limited_total')?.type).toBe('COUNTER');
    await client.close();
  });

  it('the gauges count what the server built after its metrics: bans and open connections', async () => {
    const warden = await useWarden({ options: { ...BEHIND_PROXY, banThreshold: 1, banSeconds: 60 } });
    const attacker = { 'x-forwarded-for': '203.0.113.77' };
    for (let index = 0; index < 2; index++) await send(`${warden.url}/api/status`, { headers: { authorization: `Bearer guess-${index}-0123456789abcdef`, ...attacker } });
    expect((await send(`${warden.url}/api/status`, { headers: { authorization: `Bearer ${warden.key}`, ...attacker } })).status).toBe(403);
    const response = await send(`${warden.url}/metrics`, { headers: { authorization: `Bearer ${warden.key}` } });
    expect(response.status).toBe(200);
    const families = parsePrometheusTextFormat(response.text) as Array<{ name: string; metrics: Array<{ value?: string }> }>;
    const value = (name: string): number => Number(families.find((candidate) => candidate.name === name)?.metrics[0]?.value);
    expect(value('mcp_warden_active_bans')).toBe(1);
    expect(value('mcp_warden_open_connections')).toBeGreaterThanOrEqual(1);
  });

  it('with --metrics-token, /metrics takes that token and nothing else', async () => {
    const token = 'scrape-token-0123456789abcdef';
    const warden = await useWarden({ options: { metricsToken: token } });
    expect((await send(`${warden.url}/metrics`, { headers: { authorization: `Bearer ${token}` } })).status).toBe(200);
    expect((await send(`${warden.url}/metrics`, { headers: { authorization: `Bearer ${warden.key}` } })).status).toBe(401);
    expect((await send(`${warden.url}/metrics`)).status).toBe(401);
    // The token is not an API key.
    expect((await apiStatus(warden, token)).status).toBe(401);
  });

  it('guessing the metrics token counts toward the brute-force guard', async () => {
    const token = 'scrape-token-0123456789abcdef';
    const warden = await useWarden({ options: { metricsToken: token, banThreshold: 2 } });
    for (let index = 0; index < 3; index++) {
      expect((await send(`${warden.url}/metrics`, { headers: { authorization: `Bearer guess-${index}-0123456789abcdef` } })).status).toBe(401);
    }
    const banned = await send(`${warden.url}/metrics`, { headers: { authorization: `Bearer ${token}` } });
    expect(banned.status).toBe(403);
    expect(banned.json()).toMatchObject({ error: 'ip_banned' });
  });
});

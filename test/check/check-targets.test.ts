/**
 * `mcp-warden check` against targets other than ours: an MCP server built the careless way
 * with the official SDK (no authentication, any Origin, `*` CORS, X-Powered-By, a stack
 * trace for malformed JSON), a closed port, and a server that accepts connections but never
 * answers. Each must give a clear verdict and exit 1, never a stack trace.
 */

import { createServer, type Server, type Socket } from 'node:net';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCheck } from '../../src/cli/check.js';
import { CHECK_NAMES } from '../../src/operator/check/types.js';
import { captureIo, resultOf, STACK_FRAME, textStatuses } from './helpers.js';
import { startOpenServer, type OpenServer } from './open-server.js';

describe('check against an MCP server without authentication', () => {
  let open: OpenServer;
  beforeAll(async () => {
    open = await startOpenServer({ leakStack: true });
  });
  afterAll(() => open.stop());

  it('fails auth (and the other missing protections), names the failed checks and exits 1', async () => {
    const before = open.requests();
    const out = captureIo();
    const { exitCode, report } = await runCheck({ url: open.mcpUrl }, out.io);
    expect(exitCode).toBe(1);

    expect(resultOf(report, 'auth')).toMatchObject({
      status: 'FAIL',
      reason: 'no key → 200: accepted without a valid key; a wrong key → 200: accepted without a valid key',
      reference: expect.stringContaining('OWASP API2:2023 Broken Authentication') as unknown,
      details: { authenticationRequired: false },
    });
    expect(resultOf(report, 'origin')).toMatchObject({ status: 'FAIL', reason: 'Origin: https://mcp-warden-check.invalid → 200: accepted (DNS rebinding is possible)' });
    expect(resultOf(report, 'cors')).toMatchObject({ status: 'FAIL', reason: expect.stringContaining('Access-Control-Allow-Origin: *: any web page may call this server') as unknown });
    const headers = resultOf(report, 'headers');
    expect(headers.status).toBe('FAIL');
    expect(headers.reason).toContain('X-Powered-By present');
    expect(headers.reason).toContain('no X-Content-Type-Options: nosniff');
    expect(headers.details).toMatchObject({ poweredBy: 'Express' });
    const errors = resultOf(report, 'errors');
    expect(errors.status).toBe('FAIL');
    expect(errors.reason).toContain('malformed JSON → 500 body has a stack trace');
    // The SDK transport checks the protocol version; this server answers a forged session with 400, not 404.
    const protocolSteps = (resultOf(report, 'protocol').details as { steps: Array<{ name: string; status: string }> }).steps;
    expect(protocolSteps).toEqual(
      expect.arrayContaining([
        expect.objectContaining({ name: 'unsupported version', status: 'PASS' }),
        expect.objectContaining({ name: 'forged session', status: 'WARN' }),
        expect.objectContaining({ name: 'malformed JSON', status: 'FAIL' }),
      ]),
    );
    // A working MCP server otherwise: the SDK client connects and lists its tool.
    expect(resultOf(report, 'mcp')).toMatchObject({ status: 'PASS', details: { server: { name: 'open-example' }, tools: ['greet'] } });
    expect(resultOf(report, 'health').status).toBe('PASS');
    // A 2025-only server: the modern era is not spoken, which is an era, not a failure.
    expect(report?.eras).toEqual(['2025-11-25']);
    expect(report?.eraProbe).toMatchObject({ modern: { state: 'not spoken', version: '2026-07-28' }, legacy: { state: 'spoken', version: '2025-11-25' } });
    expect(resultOf(report, 'modern')).toMatchObject({ status: 'SKIP', reason: '2026-07-28 not spoken: server/discover → 400 -32000' });

    const text = out.stdout();
    expect(text).toMatch(/^Eras: 2025-11-25; 2026-07-28 not spoken: server\/discover → 400 -32000$/m);
    expect(text).toMatch(/^FAIL {2}auth {6}no key → 200/m);
    expect(text).toMatch(/^SKIP {2}modern {4}2026-07-28 not spoken/m);
    expect(text).toMatch(/^Failed: auth, origin, protocol, cors, headers, errors$/m);
    expect(text).toContain('9 checks: 2 passed, 6 failed, 0 warnings, 1 skipped');
    expect(report?.summary.failed).toEqual(['auth', 'origin', 'protocol', 'cors', 'headers', 'errors']);
    // The stack is quoted as a one-line excerpt in the reason, never printed as a trace.
    expect(text).not.toMatch(STACK_FRAME);
    expect(out.stderr()).toBe('');
    // Bounded load: a default audit is a few dozen requests.
    expect(open.requests() - before).toBeLessThan(60);
  });

  it('with --api-key still fails auth: any key, and no key, is accepted', async () => {
    const { exitCode, report } = await runCheck({ url: open.mcpUrl, apiKey: 'some-key-0123456789abcdef', test: 'auth', json: true }, captureIo().io);
    expect(exitCode).toBe(1);
    const auth = resultOf(report, 'auth');
    expect(auth.status).toBe('FAIL');
    expect(auth.details).toMatchObject({
      steps: [
        { name: 'no key', status: 'FAIL' },
        { name: 'wrong key', status: 'FAIL' },
        { name: 'given key', status: 'PASS' },
        { name: 'query key', status: 'SKIP', observed: 'a key in the query string (meaningless: no key is needed at all)' },
      ],
    });
  });

  it('--call-tools calls its tool with arguments built from the input schema', async () => {
    const { report } = await runCheck({ url: open.mcpUrl, test: 'mcp', callTools: true }, captureIo().io);
    expect(resultOf(report, 'mcp').details).toMatchObject({ calls: [{ tool: 'greet', status: 'ok', arguments: { name: 'mcp-warden-check' }, note: 'hello mcp-warden-check' }] });
  });

  it('prints the same verdicts in text and in JSON', async () => {
    const text = captureIo();
    const json = captureIo();
    await runCheck({ url: open.mcpUrl, test: 'auth,headers,cors' }, text.io);
    await runCheck({ url: open.mcpUrl, test: 'auth,headers,cors', json: true }, json.io);
    const document = JSON.parse(json.stdout()) as { results: Array<{ test: string; status: string }> };
    expect(Object.fromEntries(document.results.map((result) => [result.test, result.status]))).toEqual(textStatuses(text.stdout()));
    expect(textStatuses(text.stdout())).toEqual({ auth: 'FAIL', cors: 'FAIL', headers: 'FAIL' });
  });
});

describe('check against a server that is down', () => {
  it('says it cannot reach the URL, fails every check and exits 1 without a stack trace', async () => {
    // A port that was just in use and is now closed.
    const server = createServer();
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const { port } = server.address() as AddressInfo;
    await new Promise<void>((resolve) => server.close(() => resolve()));
    const url = `http://127.0.0.1:${port}/mcp`;

    for (const json of [false, true]) {
      const out = captureIo();
      const { exitCode, report } = await runCheck({ url, json }, out.io);
      expect(exitCode).toBe(1);
      expect(out.stderr()).toBe(`mcp-warden check: cannot reach ${url}: connection refused\n`);
      expect(report?.unreachable).toBe(`cannot reach ${url}: connection refused`);
      expect(report?.results.every((result) => result.status === 'FAIL' && result.reason === `cannot reach ${url}: connection refused`)).toBe(true);
      expect(`${out.stdout()}${out.stderr()}`).not.toMatch(STACK_FRAME);
      // Nothing reached, nothing probed: no eras are claimed.
      expect(report?.eras).toBeUndefined();
      if (json) expect((JSON.parse(out.stdout()) as { summary: { fail: number } }).summary.fail).toBe(9);
      else expect(out.stdout()).toMatch(/^Failed: health, auth, origin, protocol, modern, cors, headers, errors, mcp$/m);
      expect(out.stdout()).not.toContain('Eras:');
    }
  });
});

describe('check against a server that never answers', () => {
  let silent: Server;
  const sockets = new Set<Socket>();
  beforeAll(async () => {
    silent = createServer((socket) => {
      sockets.add(socket);
      socket.on('close', () => sockets.delete(socket));
      socket.on('error', () => undefined);
    });
    await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve));
  });
  afterAll(async () => {
    for (const socket of sockets) socket.destroy();
    await new Promise<void>((resolve) => silent.close(() => resolve()));
  });

  it('gives up after --timeout per request and fails with a clear reason', async () => {
    const url = `http://127.0.0.1:${(silent.address() as AddressInfo).port}/mcp`;
    const started = Date.now();
    const out = captureIo();
    const { exitCode, report } = await runCheck({ url, test: ['health', 'auth', 'mcp'], timeout: 300 }, out.io);
    expect(exitCode).toBe(1);
    expect(resultOf(report, 'health')).toMatchObject({ status: 'FAIL', reason: `${url.replace('/mcp', '/health')}: no answer within 300 ms` });
    expect(resultOf(report, 'auth')).toMatchObject({ status: 'FAIL', reason: `${url}: no answer within 300 ms` });
    expect(resultOf(report, 'mcp')).toMatchObject({ status: 'FAIL', reason: 'no initialize result within 300 ms' });
    expect(Date.now() - started).toBeLessThan(5000);
    expect(out.stdout()).not.toMatch(STACK_FRAME);
  });
});

describe('check usage errors', () => {
  it('an unknown --test name exits 2 with a clear message and prints no report', async () => {
    const out = captureIo();
    const { exitCode, report } = await runCheck({ url: 'http://127.0.0.1:8443/mcp', test: ['auth', 'bogus'] }, out.io);
    expect(exitCode).toBe(2);
    expect(report).toBeUndefined();
    expect(out.stdout()).toBe('');
    expect(out.stderr()).toContain(`mcp-warden check: unknown test "bogus" for --test (known: ${CHECK_NAMES.join(', ')}, all)`);
  });

  it('bad URL, timeout and origin are reported together, exit 2', async () => {
    const out = captureIo();
    const { exitCode } = await runCheck({ url: 'ftp://example.com/mcp', timeout: 'soon', origin: 'not an origin', maxRequests: 0 }, out.io);
    expect(exitCode).toBe(2);
    const lines = out.stderr().trim().split('\n');
    expect(lines).toEqual([
      'mcp-warden check: --url must use http:// or https://, got ftp://',
      'mcp-warden check: --origin must be an origin such as https://example.invalid (scheme, host and optional port), got "not an origin"',
      'mcp-warden check: --timeout must be an integer from 100 to 600000, got "soon"',
      'mcp-warden check: --max-requests must be an integer from 1 to 100000, got "0"',
      '(run mcp-warden check --help for usage)',
    ]);
    expect(out.stdout()).toBe('');
  });

});

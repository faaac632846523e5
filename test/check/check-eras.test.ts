/**
 * `mcp-warden check` and protocol eras, against the official SDK v2 reference setup
 * (`createMcpHandler` + `toNodeHandler` on node:http): dual-era, it reports both eras, keeps the
 * 2025 checks on the legacy era and audits the 2026-07-28 MUSTs, failing only Origin (the SDK
 * does no Origin check); with the SDK's own Origin helper every modern audit passes;
 * modern-only, the session checks are skipped, not failed; behind a proxy that rewrites the
 * headers from the body, the header audits fail; a server that answers anything with an empty
 * result is credited with no era. (2025-only servers: check-targets and check-warden, where the
 * modern check says "not spoken".)
 */

import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCheck } from '../../src/cli/check.js';
import { discoverRequest } from '../../src/operator/check/modern-request.js';
import type { Step } from '../../src/operator/check/types.js';
import { send } from '../helpers/http.js';
import { captureIo, resultOf, STACK_FRAME, textStatuses } from './helpers.js';
import { startSdkV2Server, type SdkV2Server, type SdkV2ServerOptions } from './sdk-v2-server.js';

const ORIGIN = 'https://mcp-warden-check.invalid';

/** Each step of the modern check as `name → [status, expected, got]`. */
function modernSteps(details: unknown): Record<string, [string, string | undefined, string | undefined]> {
  const steps = (details as { steps: Step[] }).steps;
  return Object.fromEntries(steps.map((item) => [item.name, [item.status, item.expected, item.got]]));
}

/** A discover still answers 200 with a modern result: the audit left the server serving. */
async function stillDiscovers(server: SdkV2Server): Promise<boolean> {
  const { headers, body } = discoverRequest(undefined);
  const response = await send(server.mcpUrl, { method: 'POST', headers, body });
  return response.status === 200 && response.json<{ result?: { resultType?: string } }>().result?.resultType === 'complete';
}

function useSdkV2(options: SdkV2ServerOptions): () => SdkV2Server {
  let server: SdkV2Server | undefined;
  beforeAll(async () => {
    server = await startSdkV2Server(options);
  });
  afterAll(() => server?.stop());
  return () => {
    if (server === undefined) throw new Error('server not started');
    return server;
  };
}

describe('check against the SDK v2 reference, dual era', () => {
  const server = useSdkV2({});

  it('reports both eras, runs the 2025 checks on the legacy era and fails only the Origin audit of the modern check', async () => {
    const before = server().requests();
    const out = captureIo();
    const { exitCode, report } = await runCheck({ url: server().mcpUrl }, out.io);
    expect(exitCode).toBe(1);

    expect(report?.eras).toEqual(['2026-07-28', '2025-11-25']);
    expect(report?.eraProbe).toEqual({
      modern: {
        state: 'spoken',
        version: '2026-07-28',
        observed: 'server/discover → 200 (resultType complete, supportedVersions 2026-07-28)',
        supportedVersions: ['2026-07-28'],
      },
      legacy: { state: 'spoken', version: '2025-11-25', observed: 'initialize → 200 (protocolVersion 2025-11-25)' },
    });

    const modern = resultOf(report, 'modern');
    expect(modern).toMatchObject({
      status: 'FAIL',
      reason: `server/discover with Origin: ${ORIGIN} → 200: accepted, expected 403 (DNS rebinding is possible)`,
      reference: expect.stringContaining('MCP 2026-07-28 basic/transports/streamable-http') as unknown,
      details: { version: '2026-07-28', supportedVersions: ['2026-07-28'] },
    });
    expect(modern.reference).toContain('basic/versioning');
    // Every sub-finding names what the spec expects and what came back.
    expect(modernSteps(modern.details)).toEqual({
      'Mcp-Name': ['PASS', '400 -32020', '400 -32020'],
      'Mcp-Method': ['PASS', '400 -32020', '400 -32020'],
      'version mismatch': ['PASS', '400 -32020', '400 -32020'],
      'unsupported version': ['PASS', '400 -32022 with data.supported', '400 -32022 with data.supported ["2026-07-28"]'],
      'unknown method': ['PASS', '404 -32601', '404 -32601'],
      origin: ['FAIL', '403', '200'],
      'cache hints': [
        'PASS',
        'ttlMs ≥ 0 and cacheScope "public" or "private"',
        'server/discover ttlMs 0, cacheScope "private"; tools/list ttlMs 0, cacheScope "private"',
      ],
      'result type': ['PASS', 'resultType complete', 'resultType complete'],
    });

    // The 2025 checks ran on the legacy era (stateless: no session ids).
    expect(resultOf(report, 'protocol')).toMatchObject({ status: 'PASS', details: { protocolVersion: '2025-11-25', sessions: false } });
    expect(resultOf(report, 'mcp')).toMatchObject({ status: 'PASS', details: { protocolVersion: '2025-11-25', server: { name: 'sdk-v2-reference' }, tools: ['greet'] } });
    expect(resultOf(report, 'origin')).toMatchObject({ status: 'FAIL', reason: `Origin: ${ORIGIN} → 200: accepted (DNS rebinding is possible)` });
    expect(resultOf(report, 'auth').status).toBe('FAIL');

    const text = out.stdout();
    expect(text).toMatch(/^Eras: 2026-07-28, 2025-11-25$/m);
    expect(text).toMatch(/^FAIL {2}modern {4}server\/discover with Origin: https:\/\/mcp-warden-check\.invalid → 200: accepted, expected 403/m);
    expect(text).toMatch(/^Failed: auth, origin, modern, headers$/m);
    expect(text).not.toMatch(STACK_FRAME);
    expect(out.stderr()).toBe('');
    // Bounded: the era probe is two requests, the modern check ten.
    expect(server().requests() - before).toBeLessThan(60);
    expect(await stillDiscovers(server())).toBe(true);
  });

  it('--json carries eras and eraProbe; --test modern alone probes the eras too', async () => {
    const json = captureIo();
    const { report } = await runCheck({ url: server().mcpUrl, test: 'modern', json: true }, json.io);
    const document = JSON.parse(json.stdout()) as Record<string, unknown>;
    expect(Object.keys(document)).toEqual(['tool', 'target', 'healthUrl', 'time', 'durationMs', 'eras', 'eraProbe', 'results', 'summary']);
    expect(document['eras']).toEqual(['2026-07-28', '2025-11-25']);
    expect(document['eraProbe']).toEqual(report?.eraProbe);
    expect(report?.results.map((result) => result.test)).toEqual(['modern']);
  });

  it('a check that ignores eras (health) does not probe them', async () => {
    const before = server().requests();
    const out = captureIo();
    const { report } = await runCheck({ url: server().mcpUrl, test: 'health' }, out.io);
    expect(report?.eras).toBeUndefined();
    expect(report?.eraProbe).toBeUndefined();
    expect(out.stdout()).not.toContain('Eras:');
    expect(server().requests() - before).toBe(1);
  });
});

describe('check against the SDK v2 reference with the SDK Origin helper in front', () => {
  const server = useSdkV2({ checkOrigin: true });

  it('passes every modern audit', async () => {
    const { report } = await runCheck({ url: server().mcpUrl, test: 'modern,origin' }, captureIo().io);
    const modern = resultOf(report, 'modern');
    expect(modern.status).toBe('PASS');
    expect(Object.values(modernSteps(modern.details)).map(([status]) => status)).toEqual(Array(8).fill('PASS'));
    expect(modern.reason).toBe(
      [
        'tools/call with Mcp-Name ≠ params.name → 400 -32020',
        'server/discover without Mcp-Method → 400 -32020',
        'MCP-Protocol-Version: 2025-11-25 with _meta 2026-07-28 → 400 -32020',
        'version 1900-01-01 in MCP-Protocol-Version and _meta → 400 -32022 (supported: 2026-07-28)',
        'unknown method foo/bar → 404 -32601',
        `server/discover with Origin: ${ORIGIN} → 403 -32000 (without Origin → 200)`,
        'cache hints: server/discover ttlMs 0, cacheScope "private"; tools/list ttlMs 0, cacheScope "private"',
        'resultType complete on server/discover and tools/list',
      ].join('; '),
    );
    expect(resultOf(report, 'origin')).toMatchObject({ status: 'PASS', reason: `Origin: ${ORIGIN} → 403 (without Origin → 200)` });
    expect(await stillDiscovers(server())).toBe(true);
  });
});

describe('check against the SDK v2 reference serving only 2026-07-28 (legacy: reject)', () => {
  const server = useSdkV2({ legacy: 'reject' });

  it('reports one era; the checks that need a 2025 session say so (SKIP, not FAIL); admission probes use discover', async () => {
    const out = captureIo();
    const { exitCode, report } = await runCheck({ url: server().mcpUrl }, out.io);
    expect(exitCode).toBe(1);
    expect(report?.eras).toEqual(['2026-07-28']);
    expect(report?.eraProbe?.legacy).toEqual({ state: 'not spoken', observed: 'initialize → 400 -32022' });

    const noSessions = 'the server speaks only 2026-07-28 (initialize → 400 -32022): no initialize, no sessions to audit; the modern check audits its transport';
    expect(resultOf(report, 'protocol')).toMatchObject({ status: 'SKIP', reason: noSessions });
    expect(resultOf(report, 'mcp')).toMatchObject({ status: 'SKIP', reason: noSessions });
    // With an initialize these would be 400s ("expected 401", "refused"); with a discover they are what they are.
    expect(resultOf(report, 'auth')).toMatchObject({ status: 'FAIL', reason: 'no key → 200: accepted without a valid key; a wrong key → 200: accepted without a valid key' });
    expect(resultOf(report, 'origin')).toMatchObject({ status: 'FAIL', reason: `Origin: ${ORIGIN} → 200: accepted (DNS rebinding is possible)` });
    expect(resultOf(report, 'modern')).toMatchObject({ status: 'FAIL', reason: expect.stringContaining('Origin') as unknown });
    expect(report?.summary.failed).toEqual(['auth', 'origin', 'modern', 'headers']);

    const text = out.stdout();
    expect(text).toMatch(/^Eras: 2026-07-28; 2025 \(initialize\) not spoken: initialize → 400 -32022$/m);
    expect(textStatuses(text)).toMatchObject({ protocol: 'SKIP', mcp: 'SKIP' });
    expect(await stillDiscovers(server())).toBe(true);
  });
});

describe('check against the SDK v2 reference behind a proxy that trusts the body over the headers', () => {
  const server = useSdkV2({ checkOrigin: true, trustBody: true });

  it('fails the header audits: the server acted on requests whose headers disagree with the body', async () => {
    const { exitCode, report } = await runCheck({ url: server().mcpUrl, test: 'modern' }, captureIo().io);
    expect(exitCode).toBe(1);
    const modern = resultOf(report, 'modern');
    expect(modern.status).toBe('FAIL');
    const steps = modernSteps(modern.details);
    expect(steps['Mcp-Method']).toEqual(['FAIL', '400 -32020', '200']);
    expect(steps['version mismatch']).toEqual(['FAIL', '400 -32020', '200']);
    // The body named a tool that does not exist; the server looked it up instead of refusing.
    expect(steps['Mcp-Name']?.slice(0, 2)).toEqual(['FAIL', '400 -32020']);
    expect(steps['Mcp-Name']?.[2]).toMatch(/^200/);
    expect(modern.reason).toContain('server/discover without Mcp-Method → 200: accepted, expected 400 -32020');
    // What the proxy does not touch still passes.
    expect(steps['unsupported version']?.[0]).toBe('PASS');
    expect(steps['unknown method']?.[0]).toBe('PASS');
    expect(steps['origin']?.[0]).toBe('PASS');
    expect(await stillDiscovers(server())).toBe(true);
  });
});

describe('check against a server that answers every JSON-RPC request with an empty result', () => {
  let server: Server;
  let url: string;
  beforeAll(async () => {
    server = createServer((request, response) => {
      const chunks: Buffer[] = [];
      request.on('data', (chunk: Buffer) => chunks.push(chunk));
      request.on('end', () => {
        let id: unknown = null;
        try {
          id = (JSON.parse(Buffer.concat(chunks).toString('utf8')) as { id?: unknown }).id ?? null;
        } catch {
          // not JSON: answered all the same
        }
        response.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ jsonrpc: '2.0', id, result: {} }));
      });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/mcp`;
  });
  afterAll(async () => {
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  });

  it('claims no era: a 200 is modern only with resultType and supportedVersions, legacy only with a protocolVersion', async () => {
    const out = captureIo();
    const { report } = await runCheck({ url, test: 'modern' }, out.io);
    expect(report?.eras).toEqual([]);
    expect(resultOf(report, 'modern')).toMatchObject({ status: 'SKIP', reason: '2026-07-28 not spoken: server/discover → 200 without resultType and supportedVersions' });
    expect(out.stdout()).toMatch(
      /^Eras: none detected; 2026-07-28 not spoken: server\/discover → 200 without resultType and supportedVersions; 2025 \(initialize\) not spoken: initialize → 200 without a protocolVersion$/m,
    );
  });
});

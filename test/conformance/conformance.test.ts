/**
 * The official MCP conformance suite (`@modelcontextprotocol/conformance`, its frozen 2026-07-28
 * server requirements, scored and not scored) against the suite's reference fixture served two
 * ways:
 * - by mcp-warden's library API with an API key required, the suite going through a loopback
 *   proxy that adds the key and forwards Host/Origin untouched (auth-proxy.ts);
 * - by the SDK's own `createMcpHandler` + `toNodeHandler` (sdk-reference.ts), which shows that a
 *   failure is ours and not the fixture's.
 * Every failing check must be listed in baseline.yml with a reason, and every entry there must
 * still fail, so the baseline cannot go stale. `npm run conformance` runs this file alone.
 */

import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PROTOCOL_VERSION_META_KEY, CLIENT_CAPABILITIES_META_KEY } from '@modelcontextprotocol/server';
import { RPC } from '../../src/wire-codes.js';
import { MCP_ACCEPT, send, type RawResponse } from '../helpers/http.js';
import { startWarden, type RunningWarden } from '../helpers/warden.js';
import { startAuthProxy, type AuthProxy } from './auth-proxy.js';
import { conformanceServer } from './fixture-server.js';
import { startSdkReference, type SdkReference } from './sdk-reference.js';
import { covers, failures, readBaseline, requiredScenarios, runSuite, type BaselineEntry, type BaselineServer, type SuiteRun } from './suite.js';

const MODERN = '2026-07-28';
// The 2025 run costs about as little as the modern one (a few seconds), so CI runs both.
const LEGACY = '2025-11-25';
// The suite sends a few hundred requests in seconds from one address.
const SUITE_RATE_LIMIT = 100_000;

/** The scenarios the run has no result for. */
function missingScenarios(run: SuiteRun, revision: string): string[] {
  const { scored, notScored } = requiredScenarios(revision);
  return [...scored, ...notScored].filter((scenario) => !run.results.has(scenario));
}

/** Failing checks no baseline entry allows, one line each. */
function unexpectedFailures(run: SuiteRun, baseline: readonly BaselineEntry[]): string[] {
  return failures(run.results)
    .filter(({ scenario, check }) => !baseline.some((entry) => covers(entry, scenario, check)))
    .map(({ scenario, check }) => `${scenario} ${check.id}: ${check.errorMessage ?? '(no message)'}`);
}

/** Baseline entries that no failing check matches any more. */
function staleEntries(run: SuiteRun, baseline: readonly BaselineEntry[]): string[] {
  const failing = failures(run.results);
  return baseline
    .filter((entry) => !failing.some(({ scenario, check }) => covers(entry, scenario, check)))
    .map((entry) => (entry.check === undefined ? entry.scenario : `${entry.scenario}:${entry.check}`));
}

/** The three assertions every run gets. */
function judge(getRun: () => SuiteRun, server: BaselineServer, revision: string): void {
  it('ran every server scenario the revision names, scored and not scored (pending, extensions)', () => {
    expect(missingScenarios(getRun(), revision), getRun().output).toEqual([]);
  });

  it('fails no check outside baseline.yml', () => {
    expect(unexpectedFailures(getRun(), readBaseline(server, revision))).toEqual([]);
  });

  it('has no baseline.yml entry that passes now', () => {
    expect(staleEntries(getRun(), readBaseline(server, revision))).toEqual([]);
  });
}

function modernCall(id: number, name: string): { headers: Record<string, string>; body: string } {
  return {
    headers: {
      'content-type': 'application/json',
      accept: MCP_ACCEPT,
      'mcp-protocol-version': MODERN,
      'mcp-method': 'tools/call',
      'mcp-name': name,
    },
    body: JSON.stringify({
      jsonrpc: '2.0',
      id,
      method: 'tools/call',
      params: { name, arguments: {}, _meta: { [PROTOCOL_VERSION_META_KEY]: MODERN, [CLIENT_CAPABILITIES_META_KEY]: {} } },
    }),
  };
}

function rpcError(response: RawResponse): { code: number } | undefined {
  return (response.json() as { error?: { code: number } }).error;
}

interface WardenRun {
  readonly warden: RunningWarden;
  readonly run: SuiteRun;
}

/** In the calling describe: mcp-warden serving the fixture with a key, the proxy, one suite run. */
function suiteOnWarden(revision: string): () => WardenRun {
  let warden: RunningWarden | undefined;
  let proxy: AuthProxy | undefined;
  let run: SuiteRun | undefined;

  beforeAll(async () => {
    // The MRTR scenarios (request-state, tampered-state, multi-round) exercise mcp-warden's own
    // sealing: the state is bound to the caller, the tool and its arguments, with the server's secret.
    warden = await startWarden({
      mcpServer: ({ requestState }) =>
        conformanceServer({
          requestState: { mint: async (payload, ctx) => requestState.mint(payload, ctx as never), verify: async (state, ctx) => requestState.verify(state, ctx) },
          bind: (server) => void requestState.bind(server),
        }),
      options: { rateLimit: SUITE_RATE_LIMIT },
      logLevel: 'warn',
    });
    proxy = await startAuthProxy(warden.url, warden.key);
    run = await runSuite({ url: `${proxy.url}/mcp`, select: ['--requirements', revision] });
  }, 150_000);

  afterAll(async () => {
    await proxy?.close();
    await warden?.stop();
  });

  return () => ({ warden: warden as RunningWarden, run: run as SuiteRun });
}

describe(`conformance ${MODERN}: the fixture on mcp-warden, API key required`, () => {
  const current = suiteOnWarden(MODERN);
  judge(() => current().run, 'mcp-warden', MODERN);

  it('without the key, straight to mcp-warden: 401 with a Bearer challenge; with it, the same call answers', async () => {
    const { warden } = current();
    const call = modernCall(1, 'test_simple_text');
    const refused = await send(warden.mcpUrl, { method: 'POST', headers: call.headers, body: call.body });
    expect(refused.status).toBe(401);
    expect(refused.headers['www-authenticate']).toBe('Bearer realm="mcp-warden"');
    expect(rpcError(refused)?.code).toBe(RPC.SERVER_ERROR);

    const answered = await send(warden.mcpUrl, { method: 'POST', headers: { ...call.headers, authorization: `Bearer ${warden.key}` }, body: call.body });
    expect(answered.status).toBe(200);
    expect(answered.text).toContain('This is a simple text response for testing.');
  });
});

describe(`conformance ${LEGACY}: the fixture on mcp-warden, API key required`, () => {
  const current = suiteOnWarden(LEGACY);
  judge(() => current().run, 'mcp-warden', LEGACY);
});

describe(`conformance ${MODERN}: the same fixture on the SDK reference (createMcpHandler + toNodeHandler)`, () => {
  let reference: SdkReference;
  let run: SuiteRun;

  beforeAll(async () => {
    reference = await startSdkReference();
    run = await runSuite({ url: reference.mcpUrl, select: ['--requirements', MODERN] });
  }, 150_000);

  afterAll(async () => {
    await reference?.close();
  });

  judge(() => run, 'sdk-reference', MODERN);
});

/**
 * @module operator/check/checks/modern
 * `modern`: audits the MUSTs of the 2026-07-28 transport on a server that speaks it (MCP
 * 2026-07-28 basic/transports/streamable-http, basic/versioning, server/discover,
 * server/utilities/caching). Each probe breaks one rule and names what the spec expects and
 * what came back:
 * - `Mcp-Name` ≠ the body's name, no `Mcp-Method`, `MCP-Protocol-Version` ≠ `_meta` version
 *   → 400 with HeaderMismatch -32020 (§Server Validation: intermediaries route and authorize on
 *   these headers, so a server that executes the body instead is open to confusion attacks);
 * - a version nobody implements in header and `_meta` → 400 with -32022 and `data.supported`
 *   (basic/versioning §Protocol Version Negotiation);
 * - an unknown method → 404 with -32601 (§Protocol Version Header);
 * - a foreign `Origin` → 403 (§Security & Endpoint, DNS rebinding);
 * - `server/discover` and a list carry `resultType`, `ttlMs` ≥ 0 and `cacheScope`.
 * A probe the server answers 2xx without the expected error FAILs (it acted on a request it
 * had to refuse); a refusal with another status or code WARNs. On a server that does not
 * speak 2026-07-28 the check is skipped with "not spoken": that is an era, not a flaw.
 */

import { banHint, rateLimited } from '../net-errors.js';
import type { ProbeResponse } from '../probe.js';
import {
  HEADER_MISMATCH,
  METHOD_NOT_FOUND,
  MODERN_PROTOCOL_VERSION,
  modernRequest,
  type ModernRequestOptions,
  UNSUPPORTED_PROTOCOL_VERSION,
} from '../modern-request.js';
import { REF } from '../references.js';
import { CHECK_PROTOCOL_VERSION, rpcError, rpcResult } from '../rpc.js';
import { combine, step } from '../steps.js';
import type { CheckContext, CheckDefinition, CheckOutcome, Step } from '../types.js';

/** A version no server implements (MCP versions are release dates; the first is 2024-11-05). */
export const UNSUPPORTED_MODERN_VERSION = '1900-01-01';
/** A method no server implements. */
export const UNKNOWN_METHOD = 'foo/bar';
/** Names for the Mcp-Name probe: no real tool, prompt or resource is ever invoked. */
const BODY_NAME = 'mcp_warden_check_probe';
const HEADER_NAME = 'mcp_warden_check_other';
/** Longest server-supplied value quoted in a reason. */
const MAX_QUOTED = 40;

interface Expected {
  readonly status: number;
  /** The JSON-RPC error code the body must carry, if the spec names one. */
  readonly code?: number;
}

function isSuccess(status: number): boolean {
  return status >= 200 && status <= 299;
}

function describe(expected: Expected): string {
  return expected.code === undefined ? `${expected.status}` : `${expected.status} ${expected.code}`;
}

function got(response: ProbeResponse): string {
  const code = rpcError(response.messages())?.code;
  return code === undefined ? `${response.status}` : `${response.status} ${code}`;
}

function quote(value: unknown): string {
  return value === undefined ? 'none' : JSON.stringify(value).slice(0, MAX_QUOTED);
}

/**
 * The verdict on one answer that should have been a refusal: PASS when status and code are
 * the spec's, FAIL when the server answered 2xx without the expected error (it acted on the
 * request), WARN for any other refusal, SKIP when rate limited.
 */
export function judge(name: string, label: string, response: ProbeResponse, expected: Expected): Step {
  const comparison = { expected: describe(expected), got: got(response) };
  if (response.status === 429) return step(name, 'SKIP', `${label}: ${rateLimited(response.header('retry-after'))}`, comparison);
  const code = rpcError(response.messages())?.code;
  const codeMatches = expected.code === undefined || code === expected.code;
  if (response.status === expected.status && codeMatches) return step(name, 'PASS', `${label} → ${comparison.got}`, comparison);
  if (isSuccess(response.status) && !(expected.code !== undefined && codeMatches)) {
    return step(name, 'FAIL', `${label} → ${comparison.got}: accepted, expected ${comparison.expected}`, comparison);
  }
  return step(name, 'WARN', `${label} → ${comparison.got}, expected ${comparison.expected}${banHint(response.status, response.header('retry-after'))}`, comparison);
}

/** What the audit sends for one capability: the list to read and the named request whose `Mcp-Name` it forges. */
interface Surface {
  readonly list: string;
  readonly named: string;
  readonly params: Record<string, unknown>;
  readonly headerName: string;
}

function surfaceOf(capabilities: unknown): Surface | undefined {
  const offered = typeof capabilities === 'object' && capabilities !== null ? (capabilities as Record<string, unknown>) : {};
  if (offered['tools'] !== undefined) return { list: 'tools/list', named: 'tools/call', params: { name: BODY_NAME, arguments: {} }, headerName: HEADER_NAME };
  if (offered['prompts'] !== undefined) return { list: 'prompts/list', named: 'prompts/get', params: { name: BODY_NAME }, headerName: HEADER_NAME };
  if (offered['resources'] !== undefined) {
    return { list: 'resources/list', named: 'resources/read', params: { uri: `mcp-warden-check:${BODY_NAME}` }, headerName: `mcp-warden-check:${HEADER_NAME}` };
  }
  return undefined;
}

class ModernProbe {
  #id = 0;

  constructor(readonly context: CheckContext) {}

  send(method: string, params: Record<string, unknown>, options: Omit<ModernRequestOptions, 'key'> = {}): Promise<ProbeResponse> {
    const { http, options: check } = this.context;
    const request = modernRequest(++this.#id, method, params, { key: check.apiKey, ...options });
    return http.request({ url: check.url, method: 'POST', ...request });
  }
}

function resultTypeStep(results: ReadonlyArray<readonly [string, Record<string, unknown>]>): Step {
  const missing = results.filter(([, result]) => result['resultType'] !== 'complete' && result['resultType'] !== 'input_required');
  const names = results.map(([method]) => method).join(' and ');
  if (missing.length === 0) return step('result type', 'PASS', `resultType complete on ${names}`, { expected: 'resultType complete', got: 'resultType complete' });
  const shown = missing.map(([method, result]) => `${method} resultType ${quote(result['resultType'])}`).join(', ');
  return step('result type', 'WARN', `${shown}, expected resultType complete or input_required`, { expected: 'resultType complete', got: shown });
}

function cacheHintsStep(results: ReadonlyArray<readonly [string, Record<string, unknown>]>): Step {
  const hints = results.map(([method, result]) => {
    const ttl = result['ttlMs'];
    const scope = result['cacheScope'];
    const ok = typeof ttl === 'number' && Number.isFinite(ttl) && ttl >= 0 && (scope === 'public' || scope === 'private');
    return { ok, text: `${method} ttlMs ${quote(ttl)}, cacheScope ${quote(scope)}` };
  });
  const expected = 'ttlMs ≥ 0 and cacheScope "public" or "private"';
  const gotText = hints.map((hint) => hint.text).join('; ');
  if (hints.every((hint) => hint.ok)) return step('cache hints', 'PASS', `cache hints: ${gotText}`, { expected, got: gotText });
  return step('cache hints', 'WARN', `cache hints: ${gotText}; expected ${expected}`, { expected, got: gotText });
}

function supportedVersions(response: ProbeResponse): string[] | undefined {
  const data = rpcError(response.messages())?.['data'];
  const supported = typeof data === 'object' && data !== null ? (data as Record<string, unknown>)['supported'] : undefined;
  return Array.isArray(supported) && supported.every((item) => typeof item === 'string') ? supported.map((item) => item.slice(0, MAX_QUOTED)) : undefined;
}

async function unsupportedVersionStep(probe: ModernProbe): Promise<Step> {
  const label = `version ${UNSUPPORTED_MODERN_VERSION} in MCP-Protocol-Version and _meta`;
  const response = await probe.send('server/discover', {}, { version: UNSUPPORTED_MODERN_VERSION });
  const verdict = judge('unsupported version', label, response, { status: 400, code: UNSUPPORTED_PROTOCOL_VERSION });
  if (verdict.status !== 'PASS') return verdict;
  const supported = supportedVersions(response);
  if (supported === undefined) {
    return step('unsupported version', 'WARN', `${label} → ${verdict.got} without data.supported, expected an array of the supported versions`, {
      expected: `400 ${UNSUPPORTED_PROTOCOL_VERSION} with data.supported`,
      got: `${verdict.got ?? ''} without data.supported`,
    });
  }
  return step('unsupported version', 'PASS', `${label} → ${verdict.got} (supported: ${supported.join(', ') || 'none'})`, {
    expected: `400 ${UNSUPPORTED_PROTOCOL_VERSION} with data.supported`,
    got: `${verdict.got ?? ''} with data.supported ${JSON.stringify(supported)}`,
  });
}

async function nameStep(probe: ModernProbe, surface: Surface | undefined): Promise<Step> {
  if (surface === undefined) return step('Mcp-Name', 'SKIP', 'Mcp-Name ≠ body (the server offers no tools, prompts or resources)');
  const field = surface.named === 'resources/read' ? 'params.uri' : 'params.name';
  const response = await probe.send(surface.named, surface.params, { mcpName: surface.headerName });
  return judge('Mcp-Name', `${surface.named} with Mcp-Name ≠ ${field}`, response, { status: 400, code: HEADER_MISMATCH });
}

async function originStep(probe: ModernProbe, control: ProbeResponse): Promise<Step> {
  const { origin } = probe.context.options;
  const response = await probe.send('server/discover', {}, { extra: { origin } });
  const verdict = judge('origin', `server/discover with Origin: ${origin}`, response, { status: 403 });
  if (verdict.status === 'FAIL') return { ...verdict, observed: `${verdict.observed} (DNS rebinding is possible)` };
  if (verdict.status === 'PASS') return { ...verdict, observed: `${verdict.observed} (without Origin → ${control.status})` };
  return verdict;
}

export const modernCheck: CheckDefinition = {
  name: 'modern',
  summary: `the ${MODERN_PROTOCOL_VERSION} transport MUSTs: header mismatches → 400 -32020, unsupported version → 400 -32022 with data.supported, unknown method → 404 -32601, foreign Origin → 403, discover with cache hints, resultType`,
  reference: REF.modern,
  usesEras: true,
  async run(context): Promise<CheckOutcome> {
    const { modern, legacy } = context.eras;
    if (modern.state !== 'spoken') return { status: 'SKIP', reason: `${modern.version} ${modern.state}: ${modern.observed}`, reference: REF.modern, details: { version: modern.version, state: modern.state } };
    const probe = new ModernProbe(context);

    // The control: the same discover the era probe sent, still admitted and still modern.
    const control = await probe.send('server/discover', {});
    const discovered = rpcResult(control.messages());
    if (!isSuccess(control.status) || discovered === undefined) {
      const why = control.status === 429 ? rateLimited(control.header('retry-after')) : `server/discover → ${got(control)}, so nothing else can be judged`;
      return { status: 'SKIP', reason: why, reference: REF.modern, details: { version: modern.version } };
    }
    const surface = surfaceOf(discovered['capabilities']);
    const results: Array<readonly [string, Record<string, unknown>]> = [['server/discover', discovered]];
    if (surface !== undefined) {
      const listed = rpcResult((await probe.send(surface.list, {})).messages());
      if (listed !== undefined) results.push([surface.list, listed]);
    }
    // A version the server does speak, so the mismatch is the only thing wrong with the request.
    const otherVersion = legacy.version ?? CHECK_PROTOCOL_VERSION;
    const steps: Step[] = [
      await nameStep(probe, surface),
      judge('Mcp-Method', 'server/discover without Mcp-Method', await probe.send('server/discover', {}, { mcpMethod: null }), { status: 400, code: HEADER_MISMATCH }),
      judge(
        'version mismatch',
        `MCP-Protocol-Version: ${otherVersion} with _meta ${modern.version}`,
        await probe.send('server/discover', {}, { headerVersion: otherVersion }),
        { status: 400, code: HEADER_MISMATCH },
      ),
      await unsupportedVersionStep(probe),
      judge('unknown method', `unknown method ${UNKNOWN_METHOD}`, await probe.send(UNKNOWN_METHOD, {}), { status: 404, code: METHOD_NOT_FOUND }),
      await originStep(probe, control),
      cacheHintsStep(results),
      resultTypeStep(results),
    ];
    return combine(steps, REF.modern, { version: modern.version, supportedVersions: modern.supportedVersions ?? [] });
  },
};

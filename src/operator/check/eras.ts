/**
 * @module operator/check/eras
 * Which protocol eras the target speaks, found the way a dual-era client finds out (MCP
 * 2026-07-28 basic/versioning §Backward Compatibility, basic/transports/streamable-http
 * §Backward Compatibility): a modern probe, `server/discover` with every required header and
 * the `_meta` envelope, counts as 2026-07-28 when its result has `resultType` and
 * `supportedVersions`; a legacy probe, today's `initialize`, counts as the 2025 era with the
 * version the server negotiated. A refusal that says nothing about the era (401, 403, 429, 5xx,
 * no answer) leaves it `unknown`, never "not spoken", so checks fall back to the legacy
 * behaviour they always had. The runner probes once and hands the result to every check.
 */

import { ProbeError } from './net-errors.js';
import type { ProbeResponse } from './probe.js';
import { discoverRequest, MODERN_PROTOCOL_VERSION, type RawRequest, UNSUPPORTED_PROTOCOL_VERSION } from './modern-request.js';
import { initializeRequest, rpcError, rpcResult } from './rpc.js';
import { closeIfOpened, postHeaders, refusal } from './session.js';
import type { CheckContext, EraProbe, ProbeContext } from './types.js';

/** Bounds on what a hostile server can put into the report. */
const MAX_VERSIONS = 20;
const MAX_VERSION_LENGTH = 40;

/** The legacy era's label where no version was negotiated. */
export const LEGACY_LABEL = '2025 (initialize)';

function isSuccess(status: number): boolean {
  return status >= 200 && status <= 299;
}

/** Statuses that refuse the client, not the era: auth, bans, rate limits and server errors. */
function saysNothingAboutEra(status: number): boolean {
  return status === 401 || status === 403 || status === 429 || status >= 500;
}

function versions(value: unknown): string[] {
  if (!Array.isArray(value)) return [];
  return value.filter((item): item is string => typeof item === 'string').slice(0, MAX_VERSIONS).map((item) => item.slice(0, MAX_VERSION_LENGTH));
}

/** `server/discover → 400 -32000` and the like: the status and the JSON-RPC code, if any. */
export function answered(label: string, response: ProbeResponse): string {
  const code = rpcError(response.messages())?.code;
  return `${label} → ${response.status}${code === undefined ? '' : ` ${code}`}`;
}

async function send(context: ProbeContext, request: RawRequest): Promise<ProbeResponse | ProbeError> {
  try {
    return await context.http.request({ url: context.options.url, method: 'POST', ...request });
  } catch (error) {
    if (error instanceof ProbeError) return error;
    throw error;
  }
}

function refused(label: string, response: ProbeResponse, key: string | undefined): string {
  if (response.status >= 500) return `${label} answered ${response.status}`;
  return `${label}: ${refusal(response.status, key, response.header('retry-after'), label)}`;
}

async function probeModern(context: ProbeContext): Promise<EraProbe['modern']> {
  const key = context.options.apiKey;
  const version = MODERN_PROTOCOL_VERSION;
  const response = await send(context, discoverRequest(key));
  if (response instanceof ProbeError) return { state: 'unknown', version, observed: `server/discover: ${response.message}` };
  if (saysNothingAboutEra(response.status)) return { state: 'unknown', version, observed: refused('server/discover', response, key) };
  const result = rpcResult(response.messages());
  if (isSuccess(response.status) && result !== undefined && typeof result['resultType'] === 'string' && Array.isArray(result['supportedVersions'])) {
    const supportedVersions = versions(result['supportedVersions']);
    const resultType = String(result['resultType']).slice(0, MAX_VERSION_LENGTH);
    return {
      state: 'spoken',
      version,
      observed: `server/discover → ${response.status} (resultType ${resultType}, supportedVersions ${supportedVersions.join(', ') || 'none'})`,
      supportedVersions,
    };
  }
  const error = rpcError(response.messages());
  if (error?.code === UNSUPPORTED_PROTOCOL_VERSION) {
    // A modern server, but not of this revision: the audit cannot speak its version.
    const data = error['data'];
    const supported = versions(typeof data === 'object' && data !== null ? (data as Record<string, unknown>)['supported'] : undefined);
    return { state: 'not spoken', version, observed: `${answered('server/discover', response)}: a modern server without ${version} (supported: ${supported.join(', ') || 'none listed'})`, supportedVersions: supported };
  }
  const why = isSuccess(response.status) && result !== undefined ? ' without resultType and supportedVersions' : '';
  return { state: 'not spoken', version, observed: `${answered('server/discover', response)}${why}` };
}

async function probeLegacy(context: ProbeContext): Promise<EraProbe['legacy']> {
  const key = context.options.apiKey;
  const response = await send(context, { headers: postHeaders(key), body: initializeRequest() });
  if (response instanceof ProbeError) return { state: 'unknown', observed: `initialize: ${response.message}` };
  await closeIfOpened(context, response, key);
  if (saysNothingAboutEra(response.status)) return { state: 'unknown', observed: refused('initialize', response, key) };
  const version = rpcResult(response.messages())?.['protocolVersion'];
  if (isSuccess(response.status) && typeof version === 'string') {
    const shown = version.slice(0, MAX_VERSION_LENGTH);
    return { state: 'spoken', version: shown, observed: `initialize → ${response.status} (protocolVersion ${shown})` };
  }
  return { state: 'not spoken', observed: `${answered('initialize', response)}${isSuccess(response.status) ? ' without a protocolVersion' : ''}` };
}

/**
 * Probes both eras: two requests at most (one when the first is refused for the client's
 * sake, since the second would be refused the same way and only add an authentication
 * failure toward a ban). A legacy session the probe opens is closed again.
 *
 * @example
 * const probe = await detectEras({ http, options });
 * probe.eras; // ['2026-07-28', '2025-11-25']
 */
export async function detectEras(context: ProbeContext): Promise<EraProbe> {
  const modern = await probeModern(context);
  const legacy: EraProbe['legacy'] = modern.state === 'unknown' ? { state: 'unknown', observed: `not probed: ${modern.observed}` } : await probeLegacy(context);
  const eras = [...(modern.state === 'spoken' ? [modern.version] : []), ...(legacy.state === 'spoken' && legacy.version !== undefined ? [legacy.version] : [])];
  return { eras, modern, legacy };
}

/** An era probe for a target that could not be reached at all. */
export function unprobed(reason: string): EraProbe {
  return { eras: [], modern: { state: 'unknown', version: MODERN_PROTOCOL_VERSION, observed: reason }, legacy: { state: 'unknown', observed: reason } };
}

/** True when the server answers modern requests and refuses `initialize`: no sessions at all. */
export function speaksOnlyModern(probe: EraProbe): boolean {
  return probe.modern.state === 'spoken' && probe.legacy.state === 'not spoken';
}

/**
 * The request a check sends to see whether a client is admitted (auth, Origin, CORS, headers):
 * an `initialize` wherever the 2025 era may be spoken, a `server/discover` where only the
 * modern one is (an `initialize` there is refused for its era, which proves nothing).
 */
export function admissionRequest(context: Pick<CheckContext, 'eras'>, key: string | undefined, extra: Readonly<Record<string, string>> = {}): RawRequest {
  return speaksOnlyModern(context.eras) ? discoverRequest(key, extra) : { headers: postHeaders(key, extra), body: initializeRequest() };
}

/** The SKIP reason of a check that needs a 2025 session, on a server that speaks only the modern era. */
export function noSessionsReason(probe: EraProbe): string {
  return `the server speaks only ${probe.modern.version} (${probe.legacy.observed}): no initialize, no sessions to audit; the modern check audits its transport`;
}

/**
 * One line for the text report: the eras seen, then what is known of the others.
 *
 * @example
 * describeEras(probe); // "2025-11-25; 2026-07-28 not spoken: server/discover → 400 -32000"
 */
export function describeEras(probe: EraProbe): string {
  const { modern, legacy } = probe;
  // The legacy probe is skipped after a refusal that would repeat itself: say it once.
  const unprobedLegacy = legacy.observed.startsWith('not probed: ');
  if (probe.eras.length === 0 && modern.state === 'unknown' && unprobedLegacy) return `unknown (${modern.observed})`;
  const parts = [probe.eras.length > 0 ? probe.eras.join(', ') : 'none detected'];
  if (modern.state !== 'spoken') parts.push(`${modern.version} ${modern.state}: ${modern.observed}`);
  if (legacy.state !== 'spoken' && !unprobedLegacy) parts.push(`${LEGACY_LABEL} ${legacy.state}: ${legacy.observed}`);
  return parts.join('; ');
}

/**
 * @module bench/lib/mcp-http
 * The raw MCP-over-HTTP client of the runner, for both eras. 2025 era: open sessions
 * (initialize + notifications/initialized) and the session-bound echo call. 2026-07-28 era
 * (`modernCall`): one self-contained stateless request, headers and `_meta` envelope built
 * once. Also the answer checks, used before and after the rounds and on every response of a
 * timed run (`answerCheck`), so a JSON-RPC error never counts as throughput. node:http, so
 * every header is sent exactly as written.
 */

import { Agent, request as httpRequest } from 'node:http';
import { sseData } from '../../dist/mcp/transport/sse-parse.js';

export const PROTOCOL_VERSION = '2025-11-25';
/** The modern revision: per-request `_meta` envelope, no session (spec 2026-07-28). */
export const MODERN_PROTOCOL_VERSION = '2026-07-28';
export const CLIENT_INFO = Object.freeze({ name: 'mcp-warden-bench', version: '1.0.0' });
export const ECHO_TEXT = 'hello';
export const ECHO_ARGS = Object.freeze({ text: ECHO_TEXT });
/** The JSON-RPC id of the timed call; each connection has its own session, one call in flight. */
export const CALL_ID = 2;
export const CALL_BODY = JSON.stringify({
  jsonrpc: '2.0',
  id: CALL_ID,
  method: 'tools/call',
  params: { name: 'echo', arguments: { text: ECHO_TEXT } },
});

/** Headers every POST carries (the Bearer key is ignored by servers without auth). */
export function baseHeaders(key) {
  return {
    'content-type': 'application/json',
    accept: 'application/json, text/event-stream',
    authorization: `Bearer ${key}`,
  };
}

/**
 * One POST; resolves with status, headers and text (never rejects on HTTP status).
 *
 * @param {string} url
 * @param {Record<string,string>} headers
 * @param {string} body
 * @param {Agent} [agent]
 */
export function post(url, headers, body, agent) {
  const target = new URL(url);
  return new Promise((resolve, reject) => {
    const req = httpRequest(
      {
        host: target.hostname,
        port: target.port,
        path: target.pathname,
        method: 'POST',
        headers: { ...headers, 'content-length': Buffer.byteLength(body) },
        agent: agent ?? false,
      },
      (res) => {
        const chunks = [];
        res.on('data', (chunk) => chunks.push(chunk));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, text: Buffer.concat(chunks).toString('utf8') }));
        res.on('error', reject);
      },
    );
    req.setTimeout(15_000, () => req.destroy(new Error(`timeout: POST ${url}`)));
    req.on('error', reject);
    req.end(body);
  });
}

/** The JSON-RPC message in a JSON or SSE-framed answer (the last `data:` event for SSE). */
export function parseAnswer(response) {
  const type = String(response.headers['content-type'] ?? '');
  if (type.includes('text/event-stream')) {
    // The transport's own SSE reader (built into dist/); a body cut after its last event counts as ended.
    const data = sseData(`${response.text}\n\n`).filter((payload) => payload.trim().length > 0);
    if (data.length === 0) throw new Error(`SSE answer without data: ${response.text.slice(0, 200)}`);
    return JSON.parse(data[data.length - 1]);
  }
  return JSON.parse(response.text);
}

function short(text) {
  return text.length > 300 ? `${text.slice(0, 300)}…` : text;
}

/**
 * Opens an established session: initialize, then notifications/initialized.
 * Returns the headers every later request of the session must carry.
 *
 * @returns {Promise<{ sessionId: string, version: string, headers: Record<string,string> }>}
 */
export async function openSession(mcpUrl, key, agent) {
  const init = JSON.stringify({
    jsonrpc: '2.0',
    id: 1,
    method: 'initialize',
    params: { protocolVersion: PROTOCOL_VERSION, capabilities: {}, clientInfo: CLIENT_INFO },
  });
  const response = await post(mcpUrl, baseHeaders(key), init, agent);
  if (response.status !== 200) throw new Error(`initialize answered ${response.status}: ${short(response.text)}`);
  const sessionId = response.headers['mcp-session-id'];
  if (typeof sessionId !== 'string') throw new Error('initialize answered without Mcp-Session-Id');
  const answer = parseAnswer(response);
  const version = answer?.result?.protocolVersion;
  if (typeof version !== 'string') throw new Error(`initialize answer has no protocolVersion: ${short(response.text)}`);
  const headers = { ...baseHeaders(key), 'mcp-session-id': sessionId, 'mcp-protocol-version': version };
  const initialized = await post(mcpUrl, headers, JSON.stringify({ jsonrpc: '2.0', method: 'notifications/initialized' }), agent);
  if (initialized.status < 200 || initialized.status >= 300) {
    throw new Error(`notifications/initialized answered ${initialized.status}: ${short(initialized.text)}`);
  }
  return { sessionId, version, headers };
}

/**
 * Why a parsed answer is not the echo result, or undefined when it is: a JSON-RPC 2.0 result
 * with the call's id, the expected text (default: the text sent; the gateway benchmark's
 * upstream answers `Echo: hello`), no tool error, and for the modern era `resultType:
 * "complete"` (every 2026-07-28 result carries it).
 *
 * @param {any} answer
 * @param {'legacy' | 'modern'} era
 * @param {string} [expected] the text the result must carry
 * @param {number} [id] the id of the call answered
 */
export function echoProblem(answer, era, expected = ECHO_TEXT, id = CALL_ID) {
  if (answer === null || typeof answer !== 'object' || answer.jsonrpc !== '2.0') return 'not a JSON-RPC 2.0 message';
  if (answer.id !== id) return `id ${JSON.stringify(answer.id)} instead of ${id}`;
  if (answer.error !== undefined) return `JSON-RPC error ${JSON.stringify(answer.error?.code)}`;
  const result = answer.result;
  if (result === null || typeof result !== 'object') return 'no result';
  if (era === 'modern' && result.resultType !== 'complete') return `resultType ${JSON.stringify(result.resultType)} instead of "complete"`;
  if (result.isError === true) return 'tool error (isError)';
  if (result.content?.[0]?.text !== expected) return 'not the echoed text';
  return undefined;
}

/** The JSON-RPC message of a body: JSON, or the last `data:` event of an SSE-framed answer. */
function parseBody(text) {
  if (text.charCodeAt(0) === 123 /* { */) return JSON.parse(text);
  const data = sseData(`${text}\n\n`).filter((payload) => payload.trim().length > 0);
  return data.length === 0 ? undefined : JSON.parse(data[data.length - 1]);
}

/**
 * The per-response check of a timed run (autocannon `verifyBody`): true only for the echo
 * result. One JSON.parse per response in the load generator, the same cost for every server.
 *
 * @param {'legacy' | 'modern'} era
 * @param {string} [expected] the text the result must carry (see {@link echoProblem})
 * @returns {(body: string) => boolean}
 */
export function answerCheck(era, expected = ECHO_TEXT) {
  return (body) => {
    try {
      return echoProblem(parseBody(body), era, expected) === undefined;
    } catch {
      return false;
    }
  };
}

/**
 * Sends a timed request once and checks the answer is the echo result; throws otherwise.
 * Default: the 2025 call on a session (`headers` carry its id); pass `modernCall(...)`'s
 * body and `era: 'modern'` for the 2026-07-28 request.
 *
 * @param {string} mcpUrl
 * @param {Record<string,string>} headers
 * @param {{ body?: string, era?: 'legacy' | 'modern', expected?: string, agent?: Agent }} [request]
 */
export async function verifyEcho(mcpUrl, headers, { body = CALL_BODY, era = 'legacy', expected = ECHO_TEXT, agent } = {}) {
  const response = await post(mcpUrl, headers, body, agent);
  if (response.status !== 200) throw new Error(`tools/call answered HTTP ${response.status}: ${short(response.text)}`);
  let answer;
  try {
    answer = parseAnswer(response);
  } catch (error) {
    throw new Error(`tools/call answer is not JSON-RPC: ${short(response.text)} (${error.message})`);
  }
  const problem = echoProblem(answer, era, expected);
  if (problem !== undefined) throw new Error(`tools/call answer is wrong (${problem}): ${short(response.text)}`);
  return { bytes: Buffer.byteLength(response.text), contentType: String(response.headers['content-type'] ?? '') };
}

/**
 * The value of an `Mcp-Name` header: the name itself when it is printable ASCII without
 * surrounding spaces, else the spec's Base64 sentinel `=?base64?…?=` of its UTF-8 bytes
 * (2026-07-28 streamable-http, "Mcp-Name").
 */
function headerValue(text) {
  return /^[\x21-\x7e](?:[\x20-\x7e]*[\x21-\x7e])?$/.test(text) && !text.startsWith('=?base64?')
    ? text
    : `=?base64?${Buffer.from(text, 'utf8').toString('base64')}?=`;
}

/**
 * A 2026-07-28 `tools/call`, built once and replayed as is: the body carries the per-request
 * `_meta` envelope (protocol version, client capabilities, client info); the headers repeat
 * what the spec requires a server to match against the body (`MCP-Protocol-Version`,
 * `Mcp-Method`, `Mcp-Name`). No session: every request stands alone, so one header set serves
 * every connection. `key` adds the Bearer credential (servers without auth ignore it).
 *
 * @param {string} name tool name
 * @param {Record<string, unknown>} args tool arguments
 * @param {string} [key]
 * @returns {Readonly<{ id: number, body: string, headers: Readonly<Record<string,string>> }>}
 * @example
 *   const call = modernCall('echo', { text: 'hello' }, key);
 *   await verifyEcho(url, call.headers, { body: call.body, era: 'modern' });
 */
export function modernCall(name, args, key) {
  const body = JSON.stringify({
    jsonrpc: '2.0',
    id: CALL_ID,
    method: 'tools/call',
    params: {
      name,
      arguments: args,
      _meta: {
        'io.modelcontextprotocol/protocolVersion': MODERN_PROTOCOL_VERSION,
        'io.modelcontextprotocol/clientCapabilities': {},
        'io.modelcontextprotocol/clientInfo': CLIENT_INFO,
      },
    },
  });
  const headers = {
    'content-type': 'application/json',
    accept: 'application/json, text/event-stream',
    'mcp-protocol-version': MODERN_PROTOCOL_VERSION,
    'mcp-method': 'tools/call',
    'mcp-name': headerValue(name),
    ...(key === undefined ? {} : { authorization: `Bearer ${key}` }),
  };
  return Object.freeze({ id: CALL_ID, body, headers: Object.freeze(headers) });
}

/** A keep-alive agent allowing `concurrency` requests in flight (bounded session opening). */
export function boundedAgent(concurrency) {
  return new Agent({ keepAlive: true, maxSockets: concurrency });
}

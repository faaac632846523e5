/**
 * @module bench/lib/mcp-http
 * The raw MCP-over-HTTP client the runner uses outside the timed runs: open sessions
 * (initialize + notifications/initialized), verify the echo call, and build the exact request
 * autocannon replays. node:http, so every header is sent exactly as written.
 */

import { Agent, request as httpRequest } from 'node:http';
import { sseData } from '../../dist/mcp/transport/sse-parse.js';

export const PROTOCOL_VERSION = '2025-11-25';
export const ECHO_TEXT = 'hello';
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
    params: { protocolVersion: PROTOCOL_VERSION, capabilities: {}, clientInfo: { name: 'mcp-warden-bench', version: '1.0.0' } },
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

/** Sends the timed request once and checks the answer is the echo result; throws otherwise. */
export async function verifyEcho(mcpUrl, headers) {
  const response = await post(mcpUrl, headers, CALL_BODY);
  if (response.status !== 200) throw new Error(`tools/call answered HTTP ${response.status}: ${short(response.text)}`);
  let answer;
  try {
    answer = parseAnswer(response);
  } catch (error) {
    throw new Error(`tools/call answer is not JSON-RPC: ${short(response.text)} (${error.message})`);
  }
  const text = answer?.result?.content?.[0]?.text;
  if (answer?.id !== CALL_ID || answer?.result?.isError === true || text !== ECHO_TEXT) {
    throw new Error(`tools/call answer is wrong: ${short(response.text)}`);
  }
  return { bytes: Buffer.byteLength(response.text), contentType: String(response.headers['content-type'] ?? '') };
}

/** A keep-alive agent allowing `concurrency` requests in flight (bounded session opening). */
export function boundedAgent(concurrency) {
  return new Agent({ keepAlive: true, maxSockets: concurrency });
}

/**
 * @module bench/lib/gateway-calls
 * The requests of the gateway benchmark and their answer checks, with no I/O: the echo call of
 * `@modelcontextprotocol/server-everything` (argument `message`, answer `Echo: <message>`) as a
 * 2025 HTTP body, as a 2026-07-28 request (through `modernCall`), and as newline-delimited
 * JSON-RPC for a stdio child; a reader that splits a child's stdout into lines; and the check
 * every stdio answer must pass. The HTTP answers are checked by `answerCheck`/`echoProblem`
 * of ./mcp-http.mjs with the expected text, so a JSON-RPC error is never throughput.
 */

import { CALL_ID, CLIENT_INFO, echoProblem, modernCall, PROTOCOL_VERSION } from './mcp-http.mjs';

/** The upstream as the gateway one-liner names it (`node …/server-everything/dist/index.js`). */
export const UPSTREAM_NAME = 'server-everything';
/** The gateway's separator between upstream and tool names (its default). */
export const SEPARATOR = '__';
export const ECHO_TOOL = 'echo';
export const ECHO_MESSAGE = 'hello';
export const ECHO_ARGUMENTS = Object.freeze({ message: ECHO_MESSAGE });
/** What server-everything's echo answers (`Echo: ${message}`). */
export const ECHO_EXPECTED = `Echo: ${ECHO_MESSAGE}`;
/** The echo tool as a gateway serves it on `/mcp`, prefixed with its upstream. */
export const GATEWAY_ECHO_TOOL = `${UPSTREAM_NAME}${SEPARATOR}${ECHO_TOOL}`;

/**
 * A 2025-era `tools/call` body with the fixed id of a timed call (one call in flight per
 * session, so the id never collides).
 *
 * @param {string} name tool name as the server serves it
 * @param {Readonly<Record<string, unknown>>} args
 * @param {number} [id]
 */
export function legacyCallBody(name, args, id = CALL_ID) {
  return JSON.stringify({ jsonrpc: '2.0', id, method: 'tools/call', params: { name, arguments: args } });
}

/**
 * The echo call as every row sends it: 2025 body for a gateway's `/mcp` (prefixed name) or a
 * bridge that serves the upstream's names as they are (supergateway), and the 2026-07-28
 * request with its headers.
 *
 * @param {'gateway' | 'bridge'} naming
 * @param {string} [key] the Bearer key of the modern request
 */
export function echoCalls(naming, key) {
  const name = naming === 'gateway' ? GATEWAY_ECHO_TOOL : ECHO_TOOL;
  return { name, legacyBody: legacyCallBody(name, ECHO_ARGUMENTS), modern: modernCall(name, { ...ECHO_ARGUMENTS }, key) };
}

/** The lines a raw stdio client writes to open an MCP connection (2025 `initialize`, then `initialized`). */
export function stdioHandshake(id = 1) {
  return {
    initialize: `${JSON.stringify({ jsonrpc: '2.0', id, method: 'initialize', params: { protocolVersion: PROTOCOL_VERSION, capabilities: {}, clientInfo: CLIENT_INFO } })}\n`,
    initialized: `${JSON.stringify({ jsonrpc: '2.0', method: 'notifications/initialized' })}\n`,
  };
}

/**
 * The echo call as one stdio line. Each call of a raw stdio client has its own id, so an answer
 * can only pass for the call it answers.
 *
 * @param {number} id
 */
export function stdioCallLine(id) {
  return `${legacyCallBody(ECHO_TOOL, ECHO_ARGUMENTS, id)}\n`;
}

/**
 * Why one stdio line is not the answer to echo call `id` (undefined when it is): JSON, a
 * JSON-RPC 2.0 result with that id, the text `Echo: hello`, no tool error.
 *
 * @param {string} line
 * @param {number} id
 */
export function stdioEchoProblem(line, id) {
  let answer;
  try {
    answer = JSON.parse(line);
  } catch {
    return 'not JSON';
  }
  return echoProblem(answer, 'legacy', ECHO_EXPECTED, id);
}

/**
 * Splits a stream of text into lines (`\n` or `\r\n`), keeping a partial last line for the
 * next chunk; empty lines are dropped. stdio MCP messages are one JSON text per line.
 */
export class LineReader {
  #rest = '';

  /**
   * @param {string} chunk
   * @returns {string[]} the lines completed by this chunk
   */
  push(chunk) {
    const parts = (this.#rest + chunk).split('\n');
    this.#rest = parts.pop() ?? '';
    return parts.map((line) => (line.endsWith('\r') ? line.slice(0, -1) : line)).filter((line) => line.trim().length > 0);
  }

  /** Characters waiting for their newline. */
  get pending() {
    return this.#rest.length;
  }
}

/**
 * JSON-RPC messages of a stdio child that are not answers to our requests (notifications,
 * server-to-client requests) carry a `method`; an answer has an `id` and no `method`.
 *
 * @param {string} line
 */
export function isAnswerLine(line) {
  // Cheap test first: the everything server sends notifications (logging, list changes) too.
  if (!line.includes('"id"')) return false;
  try {
    const message = JSON.parse(line);
    return message !== null && typeof message === 'object' && 'id' in message && !('method' in message);
  } catch {
    return true; // a broken line is an answer that fails its check, never silently skipped
  }
}

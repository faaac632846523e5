/**
 * @module mcp/transport/negotiation
 * Content negotiation for the MCP endpoint: which response types a client's Accept header
 * allows, and whether a request body is declared as JSON.
 */

export interface Accepts {
  readonly json: boolean;
  readonly sse: boolean;
}

const ACCEPT_ANY: Accepts = Object.freeze({ json: true, sse: true });
/** Parsed Accept headers: clients send the same few values on every request. */
const acceptCache = new Map<string, Accepts>();
const ACCEPT_CACHE_LIMIT = 64;

/** Which of our two response types an Accept header allows (RFC 9110 §12.5.1; no header = anything). */
export function parseAccept(header: string | undefined): Accepts {
  if (header === undefined || header === '') return ACCEPT_ANY;
  const cached = acceptCache.get(header);
  if (cached !== undefined) return cached;
  const parsed = parseAcceptHeader(header);
  if (acceptCache.size < ACCEPT_CACHE_LIMIT && header.length <= 256) acceptCache.set(header, parsed);
  return parsed;
}

function parseAcceptHeader(header: string): Accepts {
  let json = false;
  let sse = false;
  for (const part of header.toLowerCase().split(',')) {
    const [range = '', ...params] = part.split(';').map((piece) => piece.trim());
    if (params.some((param) => /^q=0(\.0*)?$/.test(param))) continue;
    if (range === '*/*') return ACCEPT_ANY;
    if (range === 'application/json' || range === 'application/*') json = true;
    else if (range === 'text/event-stream' || range === 'text/*') sse = true;
  }
  return json || sse ? { json, sse } : { json: false, sse: false };
}

/** True for `application/json` with any parameters (RFC 8259 §11). */
export function isJsonContentType(header: string | undefined): boolean {
  if (header === undefined) return false;
  const semicolon = header.indexOf(';');
  return (semicolon === -1 ? header : header.slice(0, semicolon)).trim().toLowerCase() === 'application/json';
}

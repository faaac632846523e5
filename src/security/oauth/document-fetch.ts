/**
 * @module security/oauth/document-fetch
 * One GET of a Client ID Metadata Document, guarded against server-side request forgery
 * (draft-ietf-oauth-client-id-metadata-document §6.5; MCP authorization, "Client ID Metadata
 * Document Security"): the client id is a URL anyone can send us, so fetching it must not let
 * them reach our private network, hold our sockets or fill our memory.
 *
 * - The host is resolved here, every address it resolves to must be public unicast
 *   (security/oauth/public-address), and the connection goes to the vetted address through a
 *   fixed `lookup`: there is no second DNS lookup, so a rebinding answer cannot slip in between
 *   the check and the connect. TLS still verifies the certificate against the host name.
 * - https only; plain http only where loopback is allowed for tests, and then only to loopback.
 * - No redirect is followed: a 3xx is a refusal (the document must be at the client id itself).
 * - 200 with `application/json` only; the body is read as it streams with a byte cap (5 KB by
 *   default, the draft's suggestion), and the whole fetch, DNS included, has a time limit.
 *
 * Hand-written on node:http(s) rather than fetch/undici: the guard needs the resolution in our
 * hands and a per-request `lookup`, no redirect handling and no pooling (a fresh connection per
 * fetch, `agent: false`); the standard request API gives all of that in a few lines.
 */

import { lookup } from 'node:dns/promises';
import * as http from 'node:http';
import * as https from 'node:https';
import type { LookupFunction } from 'node:net';
import { addressRefusal } from './public-address.js';

/** Why a fetch was refused (the audit tag is `cimd_<reason>`). */
export type FetchRefusal = 'private_address' | 'dns' | 'unreachable' | 'timeout' | 'redirect' | 'status' | 'content_type' | 'too_large' | 'scheme';

export type FetchOutcome = { readonly kind: 'ok'; readonly body: string; readonly cacheControl: string | undefined } | { readonly kind: 'refused'; readonly reason: FetchRefusal };

export interface DocumentFetchOptions {
  /** Largest body accepted, bytes. */
  readonly maxBytes: number;
  /** The whole fetch, DNS and body included, milliseconds. */
  readonly timeoutMs: number;
  /**
   * From the request to a connection ready for it (TCP, and TLS for https), milliseconds; default
   * 1,500. A host that drops packets or never finishes its handshake frees its slot early.
   */
  readonly connectTimeoutMs?: number;
  /** Tests only: loopback hosts may be fetched from, over http too. */
  readonly allowLoopback: boolean;
  /** Certificates to trust (PEM); undefined: Node's default roots. */
  readonly ca?: readonly string[] | undefined;
  /** Name resolution (the system resolver by default); replaced in tests to model a resolver's answers. */
  readonly resolve?: (host: string) => Promise<readonly { readonly address: string; readonly family: number }[]>;
}

const systemResolve = (host: string): Promise<readonly { address: string; family: number }[]> => lookup(host, { all: true, verbatim: true });

/** The addresses `host` may be reached at, all vetted, or why not. */
async function vetted(host: string, options: DocumentFetchOptions): Promise<{ readonly address: string; readonly family: number } | FetchRefusal> {
  const literal = host.startsWith('[') ? host.slice(1, -1) : host;
  if (addressRefusal(literal, true) !== 'not_an_address') {
    return addressRefusal(literal, options.allowLoopback) === undefined ? { address: literal, family: literal.includes(':') ? 6 : 4 } : 'private_address';
  }
  let answers: readonly { address: string; family: number }[];
  try {
    answers = await (options.resolve ?? systemResolve)(host);
  } catch {
    return 'dns';
  }
  const first = answers[0];
  if (first === undefined) return 'dns';
  // Every answer must pass: a name with one public and one private address is refused, whichever a client would pick.
  if (answers.some((answer) => addressRefusal(answer.address, options.allowLoopback) !== undefined)) return 'private_address';
  return first;
}

/**
 * GETs `url` under the guard. Never throws for anything the remote side does.
 *
 * @example
 * const outcome = await fetchDocument(new URL('https://app.example.com/client.json'), { maxBytes: 5120, timeoutMs: 5000, allowLoopback: false });
 * if (outcome.kind === 'ok') JSON.parse(outcome.body);
 */
export function fetchDocument(url: URL, options: DocumentFetchOptions): Promise<FetchOutcome> {
  return new Promise<FetchOutcome>((resolve) => {
    let request: http.ClientRequest | undefined;
    let settled = false;
    let connectTimer: NodeJS.Timeout | undefined;
    const finish = (outcome: FetchOutcome): void => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      clearTimeout(connectTimer);
      request?.destroy();
      resolve(outcome);
    };
    const refuse = (reason: FetchRefusal): void => finish({ kind: 'refused', reason });
    const timer = setTimeout(() => refuse('timeout'), options.timeoutMs);

    const secure = url.protocol === 'https:';
    if (!secure && !(url.protocol === 'http:' && options.allowLoopback)) {
      refuse('scheme');
      return;
    }
    void vetted(url.hostname, options).then((target) => {
      if (settled) return;
      if (typeof target === 'string') return refuse(target);
      // Plain http is a test allowance for loopback, never a way to reach anything else.
      if (!secure && addressRefusal(target.address, false) !== 'loopback') return refuse('scheme');
      // The connection goes to the address just vetted, whatever the resolver would say now.
      const pinned: LookupFunction = (_host, lookupOptions, callback) => {
        if (lookupOptions.all === true) (callback as unknown as (error: null, addresses: { address: string; family: number }[]) => void)(null, [target]);
        else callback(null, target.address, target.family);
      };
      request = (secure ? https : http).request({
        protocol: url.protocol,
        hostname: url.hostname.startsWith('[') ? url.hostname.slice(1, -1) : url.hostname,
        port: url.port === '' ? undefined : Number(url.port),
        path: `${url.pathname}${url.search}`,
        method: 'GET',
        headers: { accept: 'application/json', 'user-agent': 'mcp-warden (client metadata fetch)' },
        lookup: pinned,
        agent: false,
        ...(secure && options.ca !== undefined ? { ca: [...options.ca] } : {}),
      });
      connectTimer = setTimeout(() => refuse('timeout'), options.connectTimeoutMs ?? 1500);
      request.on('socket', (socket) => {
        socket.once(secure ? 'secureConnect' : 'connect', () => clearTimeout(connectTimer));
      });
      request.on('error', () => refuse('unreachable'));
      request.on('response', (response) => {
        const status = response.statusCode ?? 0;
        // draft §4: the document is served at the client id itself; a redirect is not followed.
        if (status >= 300 && status < 400) return refuse('redirect');
        if (status !== 200) return refuse('status');
        const type = (response.headers['content-type'] ?? '').split(';')[0]?.trim().toLowerCase();
        if (type !== 'application/json') return refuse('content_type');
        const declared = Number(response.headers['content-length'] ?? '0');
        if (declared > options.maxBytes) return refuse('too_large');
        const chunks: Buffer[] = [];
        let bytes = 0;
        response.on('data', (chunk: Buffer) => {
          bytes += chunk.length;
          // Counted as it streams: a server that lies about, or omits, its length is cut off here.
          if (bytes > options.maxBytes) return refuse('too_large');
          chunks.push(chunk);
        });
        response.on('error', () => refuse('unreachable'));
        response.on('close', () => {
          if (!response.complete) refuse('unreachable');
        });
        response.on('end', () => finish({ kind: 'ok', body: Buffer.concat(chunks).toString('utf8'), cacheControl: response.headers['cache-control'] }));
      });
      request.end();
    });
  });
}

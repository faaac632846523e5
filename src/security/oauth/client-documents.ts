/**
 * @module security/oauth/client-documents
 * Clients identified by a Client ID Metadata Document (draft-ietf-oauth-client-id-metadata-document;
 * MCP authorization, "Client Registration"): a client id that is an https URL names a JSON
 * document, fetched under the SSRF guard of security/oauth/document-fetch, whose metadata stands
 * in for a registration. Checked here: the URL's shape (§3: https, a path, no fragment, no user
 * information, no dot segments, in normal form so the string comparison is exact), the document's
 * `client_id` equal to the URL, `client_name`, redirect URIs under the same rules as registered
 * clients, public clients only (no secret, `token_endpoint_auth_method` `none`).
 *
 * Documents are cached per replica (they are public, and every replica can fetch them): for the
 * document's `Cache-Control: max-age` within [1 minute, 1 hour] (5 minutes when absent), refusals
 * for 30 seconds, at most 1,000 entries; concurrent requests for one URL share one fetch, at
 * most 16 fetches run at once, and one requesting address (IPv6 by /64) starts at most 30 a
 * minute and 4 at once, so one address can neither use mcp-warden to hammer others nor take
 * every fetch slot. A refusal is an OAuthError `invalid_client` tagged `cimd_<why>`; a limit
 * reached is `temporarily_unavailable` (`cimd_busy`, `cimd_rate_limited`), never cached.
 */

import { MemoryRateLimitStore } from '../../store/memory/rate-limit.js';
import type { ClientRecord } from './store.js';
import { fetchDocument, type DocumentFetchOptions } from './document-fetch.js';
import { OAuthError } from './grants.js';
import { displayableClientName } from './client-name.js';
import { redirectUriProblem } from './redirect-uris.js';

export interface ClientDocumentsOptions {
  /** Tests only (`--oauth-cimd-allow-loopback`): documents on loopback, over http too. */
  readonly allowLoopback: boolean;
  /** Extra certificates to trust (PEM), with Node's default roots. */
  readonly ca?: readonly string[] | undefined;
  readonly maxBytes?: number;
  readonly timeoutMs?: number;
  readonly connectTimeoutMs?: number;
  readonly now?: () => number;
  readonly resolve?: DocumentFetchOptions['resolve'];
}

export const CIMD_LIMITS = { maxBytes: 5120, timeoutMs: 5000, minTtlMs: 60_000, maxTtlMs: 3_600_000, defaultTtlMs: 300_000, refusalTtlMs: 30_000, maxEntries: 1000, maxInFlight: 256, inFlightPerRequester: 2, inFlightPerHost: 4, fetchesPerMinute: 30, connectTimeoutMs: 1500 } as const;

const MAX_URL = 2000;
const MAX_REDIRECT_URIS = 10;

type Resolved = ClientRecord | OAuthError;

function refusal(reason: string, description: string): OAuthError {
  return new OAuthError('invalid_client', description, `cimd_${reason}`);
}

/** Seconds of `max-age`, clamped; the default when absent; the minimum for `no-store`/`no-cache`. */
function ttlOf(cacheControl: string | undefined): number {
  if (cacheControl === undefined) return CIMD_LIMITS.defaultTtlMs;
  const directives = cacheControl.toLowerCase();
  if (/(^|[\s,])(no-store|no-cache)([\s,=]|$)/.test(directives)) return CIMD_LIMITS.minTtlMs;
  const maxAge = /(?:^|[\s,])max-age=(\d{1,10})(?:[\s,]|$)/.exec(directives)?.[1];
  if (maxAge === undefined) return CIMD_LIMITS.defaultTtlMs;
  return Math.min(CIMD_LIMITS.maxTtlMs, Math.max(CIMD_LIMITS.minTtlMs, Number(maxAge) * 1000));
}

/** Why a client id URL may not name a metadata document (draft §3), or undefined when it may. */
export function documentUrlProblem(clientId: string, allowHttp: boolean): string | undefined {
  if (clientId.length > MAX_URL) return 'too long';
  let url: URL;
  try {
    url = new URL(clientId);
  } catch {
    return 'not a URL';
  }
  if (url.protocol !== 'https:' && !(allowHttp && url.protocol === 'http:')) return 'not https';
  if (clientId.includes('#')) return 'has a fragment';
  if (url.username !== '' || url.password !== '') return 'has user information';
  // Dot segments, literal or percent-encoded, before the URL parser removes them.
  if (/\/(\.|%2e){1,2}(\/|\?|$)/i.test(clientId.slice(url.protocol.length + 2))) return 'has a dot segment';
  if (url.pathname === '/' || url.pathname === '') return 'has no path';
  // Normal form only (lower-case host, no default port, ...): the document's client_id is compared byte for byte.
  if (url.href !== clientId) return 'not in normal form';
  return undefined;
}

/** The document's metadata as a client record, or why not. */
function clientFrom(clientId: string, body: string, now: number, ttlMs: number): Resolved {
  let document: unknown;
  try {
    document = JSON.parse(body);
  } catch {
    return refusal('not_json', 'The client metadata document is not JSON');
  }
  if (typeof document !== 'object' || document === null || Array.isArray(document)) return refusal('not_json', 'The client metadata document is not a JSON object');
  const metadata = document as Record<string, unknown>;
  // draft §4.1: the client_id in the document is the URL it was fetched from, exactly.
  if (metadata['client_id'] !== clientId) return refusal('client_id_mismatch', 'The client metadata document names another client_id');
  const name = metadata['client_name'];
  if (typeof name !== 'string' || name.trim() === '') return refusal('client_name', 'The client metadata document has no client_name');
  // draft §4.1: a document never holds a shared secret; only public clients (PKCE) are served.
  const method = metadata['token_endpoint_auth_method'] ?? 'none';
  if (method !== 'none' || metadata['client_secret'] !== undefined || metadata['client_secret_expires_at'] !== undefined) {
    return refusal('auth_method', 'Only public clients (token_endpoint_auth_method none) are supported');
  }
  const uris = metadata['redirect_uris'];
  if (!Array.isArray(uris) || uris.length === 0 || uris.length > MAX_REDIRECT_URIS || !uris.every((uri): uri is string => typeof uri === 'string' && redirectUriProblem(uri) === undefined)) {
    return refusal('redirect_uris', 'The client metadata document lists no usable redirect_uris');
  }
  const grants = metadata['grant_types'] ?? ['authorization_code'];
  const responses = metadata['response_types'] ?? ['code'];
  if (!Array.isArray(grants) || !grants.every((grant) => grant === 'authorization_code' || grant === 'refresh_token') || !Array.isArray(responses) || !responses.every((type) => type === 'code')) {
    return refusal('document', 'The client metadata document asks for an unsupported grant or response type');
  }
  // Shown on the consent page (escaped there); printable characters only (no format characters), bounded, as for registered clients.
  const clientName = displayableClientName(name);
  return { clientId, clientName, redirectUris: [...uris], createdAt: now, expiresAt: now + ttlMs };
}

/**
 * Resolves URL client ids to client records through their metadata documents.
 *
 * @example
 * const documents = new ClientDocuments({ allowLoopback: false });
 * const client = await documents.resolve('https://app.example.com/oauth/client.json');
 * if (client instanceof OAuthError) refuse(client);
 */
export class ClientDocuments {
  readonly #options: ClientDocumentsOptions;
  readonly #now: () => number;
  readonly #cache = new Map<string, { readonly expiresAt: number; readonly value: Resolved }>();
  readonly #inFlight = new Map<string, Promise<Resolved>>();
  readonly #requesterInFlight = new Map<string, number>();
  readonly #hostInFlight = new Map<string, number>();
  readonly #perRequester: MemoryRateLimitStore;

  constructor(options: ClientDocumentsOptions) {
    this.#options = options;
    this.#now = options.now ?? Date.now;
    this.#perRequester = new MemoryRateLimitStore({ windowMs: 60_000, maxLimit: CIMD_LIMITS.fetchesPerMinute, maxClients: 10_000, sweep: false, now: this.#now });
  }

  /** True for a client id that names a metadata document (registered client ids never start with a scheme). */
  isDocumentId(clientId: string): boolean {
    return clientId.startsWith('https://') || (this.#options.allowLoopback && clientId.startsWith('http://'));
  }

  /** `requester`: the address asking (its rate-limit key), so that one address cannot spend every fetch. */
  async resolve(clientId: string, requester?: string): Promise<Resolved> {
    const now = this.#now();
    const cached = this.#cache.get(clientId);
    if (cached !== undefined && cached.expiresAt > now) return cached.value;
    if (cached !== undefined) this.#cache.delete(clientId);
    const problem = documentUrlProblem(clientId, this.#options.allowLoopback);
    if (problem !== undefined) return refusal('url', 'The client_id is not a usable client metadata document URL');
    const running = this.#inFlight.get(clientId);
    if (running !== undefined) return running;
    const busy = new OAuthError('temporarily_unavailable', 'Too many client metadata documents are being fetched; try again', 'cimd_busy');
    if (this.#inFlight.size >= CIMD_LIMITS.maxInFlight) return busy;
    const ownRunning = requester === undefined ? 0 : (this.#requesterInFlight.get(requester) ?? 0);
    if (ownRunning >= CIMD_LIMITS.inFlightPerRequester) return busy;
    // One slow host (a tarpit named by many client ids) holds at most a few fetches.
    const host = new URL(clientId).host;
    const hostRunning = this.#hostInFlight.get(host) ?? 0;
    if (hostRunning >= CIMD_LIMITS.inFlightPerHost) return busy;
    if (requester !== undefined && !this.#perRequester.consume(requester, CIMD_LIMITS.fetchesPerMinute).allowed) {
      return new OAuthError('temporarily_unavailable', 'Too many client metadata documents were asked for from this address; try again later', 'cimd_rate_limited');
    }
    if (requester !== undefined) this.#requesterInFlight.set(requester, ownRunning + 1);
    this.#hostInFlight.set(host, hostRunning + 1);
    const fetching = this.#fetch(clientId).finally(() => {
      this.#inFlight.delete(clientId);
      const hostLeft = (this.#hostInFlight.get(host) ?? 1) - 1;
      if (hostLeft <= 0) this.#hostInFlight.delete(host);
      else this.#hostInFlight.set(host, hostLeft);
      if (requester === undefined) return;
      const left = (this.#requesterInFlight.get(requester) ?? 1) - 1;
      if (left <= 0) this.#requesterInFlight.delete(requester);
      else this.#requesterInFlight.set(requester, left);
    });
    this.#inFlight.set(clientId, fetching);
    return fetching;
  }

  async #fetch(clientId: string): Promise<Resolved> {
    const outcome = await fetchDocument(new URL(clientId), {
      maxBytes: this.#options.maxBytes ?? CIMD_LIMITS.maxBytes,
      timeoutMs: this.#options.timeoutMs ?? CIMD_LIMITS.timeoutMs,
      connectTimeoutMs: this.#options.connectTimeoutMs ?? CIMD_LIMITS.connectTimeoutMs,
      allowLoopback: this.#options.allowLoopback,
      ca: this.#options.ca,
      resolve: this.#options.resolve,
    });
    const now = this.#now();
    let value: Resolved;
    let ttl: number = CIMD_LIMITS.refusalTtlMs;
    if (outcome.kind === 'refused') {
      value = outcome.reason === 'too_large'
        ? refusal('too_large', 'The client metadata document is too large')
        : outcome.reason === 'content_type'
          ? refusal('content_type', 'The client metadata document is not served as application/json')
          : // Network-level refusals share one description: the page is no probe of what lies behind a name.
            refusal(outcome.reason, 'The client metadata document could not be fetched');
    } else {
      ttl = ttlOf(outcome.cacheControl);
      value = clientFrom(clientId, outcome.body, now, ttl);
      if (value instanceof OAuthError) ttl = CIMD_LIMITS.refusalTtlMs;
    }
    if (this.#cache.size >= CIMD_LIMITS.maxEntries) {
      const oldest = this.#cache.keys().next().value;
      if (oldest !== undefined) this.#cache.delete(oldest);
    }
    this.#cache.set(clientId, { expiresAt: now + ttl, value });
    return value;
  }
}

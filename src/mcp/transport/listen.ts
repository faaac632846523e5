/**
 * @module mcp/transport/listen
 * `subscriptions/listen` (MCP 2026-07-28, basic/patterns/subscriptions): the long-lived SSE
 * streams on which modern clients hear that a list changed or a resource was updated.
 *
 * The wire follows the SDK's own router (`createListenRouter` in `@modelcontextprotocol/server`,
 * package-internal in 2.4.0, which is why this is written here): the first event is
 * `notifications/subscriptions/acknowledged` carrying the honoured subset of the requested
 * filter; every message carries `_meta["io.modelcontextprotocol/subscriptionId"]` = the listen
 * request's JSON-RPC id; only requested types are sent; a stream the server ends on its own
 * gets the graceful result `{resultType: "complete", _meta: {subscriptionId}}` first. A filter
 * with nothing honoured is acknowledged and ended at once. Keep-alive comments every 15 s.
 *
 * What is ours: the subset is also narrowed by the caller's scope (a resource the credential may
 * not read is dropped from the ack, never announced); streams are capped in total and per
 * principal, and a caller over a cap gets 429 + `Retry-After` before any stream opens (the SDK
 * answers an in-band -32603 on a 200 stream instead; a status lets proxies, clients and our
 * request log see the refusal like every other limit); a stream ends gracefully when its
 * credential ends (revoked or expired key, token past `exp`, checked twice a second) and on
 * shutdown; and changes reach the streams of every replica through {@link ChangeRelay}.
 *
 * Changes come from the modern engine (what it sends outside any request: `list_changed`,
 * `resources/updated`), from the library API (`warden.notify`), and from other replicas.
 */

import { SERVER_INFO_META_KEY, SUBSCRIPTION_ID_META_KEY, type JSONRPCMessage, type RequestId, type ServerCapabilities } from '@modelcontextprotocol/server';
import { z } from 'zod';
import { WardenError } from '../../errors.js';
import type { Principal } from '../../security/identity.js';
import type { ChangeRelay } from '../../shared-state/change-sharing.js';
import { MAX_CHANGE_URI_CHARS, type ServerChange } from '../../store/types.js';
import { SseStream, type KeepAliveTimer } from './sse.js';
import { SSE_HEADERS, type McpHttpResponse } from './types.js';

export type { ServerChange } from '../../store/types.js';

/** Keep-alive comment interval (the SDK's `DEFAULT_SSE_KEEP_ALIVE_MS`). */
export const LISTEN_KEEPALIVE_MS = 15_000;
/** Resource URIs one stream may subscribe to. */
export const MAX_RESOURCE_SUBSCRIPTIONS = 256;
/** What a client over a cap is told to wait, seconds. */
const RETRY_AFTER_SECONDS = '30';

const ACKNOWLEDGED = 'notifications/subscriptions/acknowledged';

/** The `notifications` filter of a listen request (unknown fields are ignored). */
const filterSchema = z.object({
  toolsListChanged: z.boolean().optional(),
  promptsListChanged: z.boolean().optional(),
  resourcesListChanged: z.boolean().optional(),
  resourceSubscriptions: z.array(z.string().min(1).max(MAX_CHANGE_URI_CHARS)).max(MAX_RESOURCE_SUBSCRIPTIONS).optional(),
});

/** The subset of a filter the server agreed to honour (what the ack carries). */
export interface HonouredFilter {
  toolsListChanged?: true;
  promptsListChanged?: true;
  resourcesListChanged?: true;
  resourceSubscriptions?: string[];
}

/**
 * Announces changes to the listen streams of every replica: `warden.notify` of the library API.
 * Changes your server's engine makes itself (a tool registered at run time) are announced
 * without it.
 */
export interface ListenNotifier {
  toolsListChanged(): void;
  promptsListChanged(): void;
  resourcesListChanged(): void;
  /** Announces `notifications/resources/updated` to the streams subscribed to exactly `uri`. */
  resourceUpdated(uri: string): void;
}

export interface ListenHubOptions {
  /** Listen streams held at once by this replica. */
  readonly maxStreams: number;
  /** Listen streams one principal (key id, token subject) may hold at once on this replica. */
  readonly maxPerPrincipal: number;
  readonly keepAliveMs?: number;
  /** Schedules keep-alives (tests drive it by hand). */
  readonly keepAliveTimer?: KeepAliveTimer;
  /** The other replicas (Redis); absent: this process only. */
  readonly relay?: ChangeRelay | undefined;
}

/** What the modern endpoint hands over with one `subscriptions/listen` request. */
export interface ListenRequest {
  readonly id: RequestId;
  readonly params: unknown;
  readonly principal: Principal;
  readonly acceptsSse: boolean;
  /** The engine's advertised capabilities: only what it advertises is honoured. */
  readonly capabilities: ServerCapabilities | undefined;
  /** The engine's identity, stamped on the graceful result as on every modern result. */
  readonly serverInfo: unknown;
  /** Whether the caller's scope lets it read `uri`. */
  readonly resourceAllowed: (uri: string) => boolean;
}

interface Listener {
  readonly id: RequestId;
  readonly principal: Principal;
  readonly honoured: HonouredFilter;
  readonly uris: ReadonlySet<string>;
  readonly stream: SseStream;
  readonly serverInfo: unknown;
}

const NOTIFICATION_METHODS: Readonly<Record<ServerChange['kind'], string>> = {
  tools_list_changed: 'notifications/tools/list_changed',
  prompts_list_changed: 'notifications/prompts/list_changed',
  resources_list_changed: 'notifications/resources/list_changed',
  resource_updated: 'notifications/resources/updated',
};

/** The change an engine notification announces, or undefined for anything else. */
export function changeOf(message: JSONRPCMessage): ServerChange | undefined {
  if (!('method' in message) || 'id' in message) return undefined;
  switch (message.method) {
    case 'notifications/tools/list_changed':
      return { kind: 'tools_list_changed' };
    case 'notifications/prompts/list_changed':
      return { kind: 'prompts_list_changed' };
    case 'notifications/resources/list_changed':
      return { kind: 'resources_list_changed' };
    case 'notifications/resources/updated': {
      const uri = (message.params as { uri?: unknown } | undefined)?.uri;
      return typeof uri === 'string' ? { kind: 'resource_updated', uri } : undefined;
    }
    default:
      return undefined;
  }
}

/**
 * The honoured subset: what the client asked for (`true`, non-empty list), narrowed by the
 * engine's capabilities (`tools.listChanged`..., `resources.subscribe`) and, for resources, by
 * the caller's scope. Duplicated URIs are kept once.
 */
export function honouredSubset(requested: z.infer<typeof filterSchema>, capabilities: ServerCapabilities | undefined, resourceAllowed: (uri: string) => boolean): HonouredFilter {
  const honoured: HonouredFilter = {};
  if (requested.toolsListChanged === true && capabilities?.tools?.listChanged === true) honoured.toolsListChanged = true;
  if (requested.promptsListChanged === true && capabilities?.prompts?.listChanged === true) honoured.promptsListChanged = true;
  if (requested.resourcesListChanged === true && capabilities?.resources?.listChanged === true) honoured.resourcesListChanged = true;
  if (requested.resourceSubscriptions !== undefined && capabilities?.resources?.subscribe === true) {
    const uris = [...new Set(requested.resourceSubscriptions)].filter((uri) => resourceAllowed(uri));
    if (uris.length > 0) honoured.resourceSubscriptions = uris;
  }
  return honoured;
}

function accepts(listener: Listener, change: ServerChange): boolean {
  switch (change.kind) {
    case 'tools_list_changed':
      return listener.honoured.toolsListChanged === true;
    case 'prompts_list_changed':
      return listener.honoured.promptsListChanged === true;
    case 'resources_list_changed':
      return listener.honoured.resourcesListChanged === true;
    case 'resource_updated':
      return listener.uris.has(change.uri);
  }
}

/**
 * The listen streams of this replica.
 *
 * @example
 * const hub = new ListenHub({ maxStreams: 10_000, maxPerPrincipal: 1000 });
 * hub.notifier.toolsListChanged(); // every stream that asked for toolsListChanged hears it
 */
export class ListenHub {
  readonly #listeners = new Set<Listener>();
  readonly #perPrincipal = new Map<string, number>();
  readonly #maxStreams: number;
  readonly #maxPerPrincipal: number;
  readonly #keepAliveMs: number;
  readonly #keepAliveTimer: KeepAliveTimer | undefined;
  readonly #relay: ChangeRelay | undefined;
  #closing = false;
  /** `warden.notify`: changes announced by the library user, on every replica. */
  readonly notifier: ListenNotifier;

  constructor(options: ListenHubOptions) {
    this.#maxStreams = options.maxStreams;
    this.#maxPerPrincipal = options.maxPerPrincipal;
    this.#keepAliveMs = options.keepAliveMs ?? LISTEN_KEEPALIVE_MS;
    this.#keepAliveTimer = options.keepAliveTimer;
    this.#relay = options.relay;
    // Another replica's change goes to the streams held here, never back to the bus.
    this.#relay?.onRemote((change) => this.#deliver(change));
    this.notifier = Object.freeze({
      toolsListChanged: () => this.publish({ kind: 'tools_list_changed' }),
      promptsListChanged: () => this.publish({ kind: 'prompts_list_changed' }),
      resourcesListChanged: () => this.publish({ kind: 'resources_list_changed' }),
      resourceUpdated: (uri: string) => {
        if (typeof uri !== 'string' || uri.length === 0) throw new TypeError('resourceUpdated(uri): uri must be a non-empty string');
        this.publish({ kind: 'resource_updated', uri });
      },
    });
  }

  /** Open listen streams on this replica. */
  get size(): number {
    return this.#listeners.size;
  }

  /**
   * Opens a stream for a validated, in-scope listen request: the ack first, then the changes
   * it asked for. Refusals: 406 (no SSE), 400/-32602 (bad filter), 429 (a cap), 503 (closing).
   */
  open(request: ListenRequest): McpHttpResponse {
    if (!request.acceptsSse) return refusal('WARDEN_ERR_LISTEN_NEEDS_SSE', 'listen_without_sse', request.id);
    const params = request.params as { notifications?: unknown } | undefined;
    const parsed = filterSchema.safeParse(params?.notifications);
    if (params?.notifications === undefined || !parsed.success) return refusal('WARDEN_ERR_INVALID_LISTEN_FILTER', 'listen_filter', request.id);
    if (this.#closing) return refusal('WARDEN_ERR_SHUTTING_DOWN', 'listen_closing', request.id);
    const held = this.#perPrincipal.get(request.principal.id) ?? 0;
    if (this.#listeners.size >= this.#maxStreams || held >= this.#maxPerPrincipal) {
      return refusal('WARDEN_ERR_TOO_MANY_LISTENS', this.#listeners.size >= this.#maxStreams ? 'listen_cap' : 'listen_cap_per_key', request.id, { 'retry-after': RETRY_AFTER_SECONDS });
    }
    const honoured = honouredSubset(parsed.data, request.capabilities, request.resourceAllowed);
    const stream = new SseStream({ keepAliveMs: this.#keepAliveMs, keepAliveTimer: this.#keepAliveTimer });
    const listener: Listener = { id: request.id, principal: request.principal, honoured, uris: new Set(honoured.resourceSubscriptions ?? []), stream, serverInfo: request.serverInfo };
    stream.send({ jsonrpc: '2.0', method: ACKNOWLEDGED, params: { _meta: { [SUBSCRIPTION_ID_META_KEY]: request.id }, notifications: honoured } });
    if (Object.keys(honoured).length === 0) {
      // Nothing to deliver: acknowledged, then ended at once (as the SDK does); holds no slot.
      this.#finish(listener);
    } else {
      this.#listeners.add(listener);
      this.#perPrincipal.set(request.principal.id, held + 1);
      stream.onClose(() => this.#remove(listener));
    }
    return { kind: 'stream', status: 200, headers: SSE_HEADERS, attach: (sink) => stream.attach(sink) };
  }

  /** A change that happened on this replica: to its streams, and to the other replicas. */
  publish(change: ServerChange): void {
    if (change.kind === 'resource_updated' && change.uri.length > MAX_CHANGE_URI_CHARS) return; // no stream can have subscribed to it
    this.#deliver(change);
    this.#relay?.publish(change);
  }

  /** What the modern engine sent outside any request: a change is published, anything else ignored. */
  engineMessage(message: JSONRPCMessage): void {
    const change = changeOf(message);
    if (change !== undefined) this.publish(change);
  }

  /** Ends, gracefully, the streams whose principal `ended` picks (its credential ended). */
  endWhere(ended: (principal: Principal) => boolean): number {
    let count = 0;
    for (const listener of [...this.#listeners]) {
      if (!ended(listener.principal)) continue;
      this.#finish(listener);
      count++;
    }
    return count;
  }

  /** Shutdown: ends every stream gracefully and refuses new ones (503). */
  closeAll(): void {
    this.#closing = true;
    for (const listener of [...this.#listeners]) this.#finish(listener);
  }

  #deliver(change: ServerChange): void {
    const method = NOTIFICATION_METHODS[change.kind];
    for (const listener of this.#listeners) {
      if (!accepts(listener, change)) continue;
      const meta = { [SUBSCRIPTION_ID_META_KEY]: listener.id };
      const params = change.kind === 'resource_updated' ? { _meta: meta, uri: change.uri } : { _meta: meta };
      listener.stream.send({ jsonrpc: '2.0', method, params });
    }
  }

  /** The server ends a stream: the graceful result (the listen request's response), then the end. */
  #finish(listener: Listener): void {
    const meta: Record<string, unknown> = { [SUBSCRIPTION_ID_META_KEY]: listener.id };
    if (listener.serverInfo !== undefined) meta[SERVER_INFO_META_KEY] = listener.serverInfo;
    listener.stream.send({ jsonrpc: '2.0', id: listener.id, result: { resultType: 'complete', _meta: meta } });
    listener.stream.end();
    this.#remove(listener);
  }

  #remove(listener: Listener): void {
    if (!this.#listeners.delete(listener)) return;
    const held = this.#perPrincipal.get(listener.principal.id) ?? 0;
    if (held <= 1) this.#perPrincipal.delete(listener.principal.id);
    else this.#perPrincipal.set(listener.principal.id, held - 1);
  }
}

function refusal(code: 'WARDEN_ERR_LISTEN_NEEDS_SSE' | 'WARDEN_ERR_INVALID_LISTEN_FILTER' | 'WARDEN_ERR_TOO_MANY_LISTENS' | 'WARDEN_ERR_SHUTTING_DOWN', reason: string, id: RequestId, headers?: Record<string, string>): McpHttpResponse {
  return { kind: 'error', error: new WardenError(code, { reason, headers, rpc: { id } }) };
}

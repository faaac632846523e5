/**
 * @module gateway/input-rounds
 * Server-to-client requests of an upstream (sampling, elicitation, roots) relayed to a
 * 2026-07-28 client through `input_required` (MCP 2026-07-28 basic/patterns/mrtr). A modern
 * client has no session and no stream the gateway could send a request on: it only learns what
 * is asked from a `tools/call` result, and answers by calling the tool again with
 * `inputResponses` and the `requestState` we gave it.
 *
 * So a modern `tools/call` through a principal's connection is an {@link Exchange}: the upstream
 * call keeps running while the client answers. When the upstream asks something while exactly
 * one call is in flight on that connection and that call is an exchange, the exchange is
 * suspended in a bounded, expiring table (this module; TTL = the requestState TTL, a cap per
 * principal and in total) and the client gets `input_required` with the upstream's method and
 * params and a requestState sealed by our codec (bound to principal, tool and arguments) that
 * carries only the table entry's id. On the retry the entry is taken out of the table (once:
 * a replayed state finds nothing), the client's answer goes to the upstream as the answer to its
 * pending request, and the exchange waits again: for the upstream's result, or its next request.
 *
 * Refused to the upstream (its request gets a JSON-RPC error): a request while no call or
 * several calls are in flight on the connection (whose client would answer?), while the call in
 * flight is not a modern `tools/call` (a `--stateless` 2025 request, a listing), a kind the
 * client did not declare in the request's `_meta` client capabilities (MRTR server requirement
 * 7; for sampling and elicitation the call then ends with a tool error saying so, while an
 * undeclared `roots/list` is only refused: servers ask for roots on their own schedule, not for
 * the call), or when the table is full. An entry that
 * expires cancels its upstream call (`notifications/cancelled` upstream) and answers the pending
 * request with an error. Hand-written: the SDK's own shim re-enters handlers, it cannot park an
 * upstream call across client round trips.
 */

import { randomBytes } from 'node:crypto';
import type { Client } from '@modelcontextprotocol/client';
import { CLIENT_CAPABILITIES_META_KEY, ProtocolError, type CallToolResult, type ClientCapabilities, type InputRequest, type ServerContext } from '@modelcontextprotocol/server';
import { WardenError } from '../errors.js';
import { RPC } from '../wire-codes.js';
import { supportsFormElicitation } from '../mcp/tools/confirm-action.js';

export type RelayedMethod = 'sampling/createMessage' | 'elicitation/create' | 'roots/list';

const RELAYED: readonly RelayedMethod[] = ['sampling/createMessage', 'elicitation/create', 'roots/list'];

/** What a principal's upstream connection announces so the upstream may ask (relayed as above). */
export const MODERN_RELAY_CAPABILITIES: ClientCapabilities = Object.freeze({ sampling: {}, elicitation: { form: {} }, roots: {} });

/** The `inputRequests` key of the one request relayed per round. */
export const INPUT_KEY = 'upstream';

/** What an exchange's caller learns next. */
export type Step =
  | { readonly kind: 'done'; readonly result: CallToolResult }
  | { readonly kind: 'failed'; readonly error: unknown }
  | { readonly kind: 'asked'; readonly id: string; readonly request: InputRequest }
  | { readonly kind: 'refused'; readonly message: string };

/** The payload our requestState carries for a suspended exchange. */
export interface RoundState {
  readonly g: string;
}

export function isRoundState(value: unknown): value is RoundState {
  return typeof value === 'object' && value !== null && typeof (value as { g?: unknown }).g === 'string';
}

/** The client capabilities a 2026-07-28 request declared in its `_meta` (undefined: none). */
export function declaredCapabilities(ctx: ServerContext): ClientCapabilities | undefined {
  const declared = (ctx.mcpReq.envelope as Readonly<Record<string, unknown>> | undefined)?.[CLIENT_CAPABILITIES_META_KEY];
  return typeof declared === 'object' && declared !== null ? (declared as ClientCapabilities) : undefined;
}

/** Whether `capabilities` lets us send `method` with `params` (elicitation: per mode). */
function declares(capabilities: ClientCapabilities | undefined, method: RelayedMethod, params: Record<string, unknown> | undefined): boolean {
  if (method === 'sampling/createMessage') return capabilities?.sampling !== undefined && (params?.['tools'] === undefined || capabilities.sampling.tools !== undefined);
  if (method === 'roots/list') return capabilities?.roots !== undefined;
  if (params?.['mode'] === 'url') return typeof capabilities?.elicitation === 'object' && capabilities.elicitation.url !== undefined;
  return supportsFormElicitation(capabilities);
}

/** One modern `tools/call` through an upstream, possibly spanning several client round trips. */
export class Exchange {
  readonly ownerKey: string;
  readonly principalId: string;
  readonly upstream: string;
  /** Aborts the upstream call (expiry, refusal, the client gone mid-round). */
  readonly controller = new AbortController();
  /** The capabilities of the round being served (each retry declares its own). */
  capabilities: ClientCapabilities | undefined;
  /** The upstream's request waiting for the client's answer. */
  pending: { readonly resolve: (result: unknown) => void; readonly reject: (error: unknown) => void } | undefined;
  expiresAt = 0;
  readonly #steps: Step[] = [];
  #waiter: ((step: Step) => void) | undefined;

  constructor(ownerKey: string, principalId: string, upstream: string, capabilities: ClientCapabilities | undefined) {
    this.ownerKey = ownerKey;
    this.principalId = principalId;
    this.upstream = upstream;
    this.capabilities = capabilities;
  }

  /** Follows the upstream call: its result or failure is the last step. */
  attach(call: Promise<CallToolResult>): void {
    call.then(
      (result) => this.push({ kind: 'done', result }),
      (error: unknown) => this.push({ kind: 'failed', error }),
    );
  }

  push(step: Step): void {
    const waiter = this.#waiter;
    this.#waiter = undefined;
    if (waiter !== undefined) waiter(step);
    else this.#steps.push(step);
  }

  /** The next step; `signal` (the round's request) aborting cancels the upstream call. */
  next(signal: AbortSignal): Promise<Step> {
    const queued = this.#steps.shift();
    if (queued !== undefined) return Promise.resolve(queued);
    return new Promise((resolve) => {
      const onAbort = (): void => this.controller.abort(signal.reason);
      signal.addEventListener('abort', onAbort, { once: true });
      this.#waiter = (step) => {
        signal.removeEventListener('abort', onAbort);
        resolve(step);
      };
    });
  }
}

export interface InputRoundsOptions {
  /** How long an exchange waits for the client's answer, ms (the requestState TTL). */
  readonly ttlMs: number;
  /** Exchanges waiting at once, all principals (default 1000). */
  readonly maxTotal?: number | undefined;
  /** Exchanges waiting at once per principal (default 16). */
  readonly maxPerPrincipal?: number | undefined;
  readonly now: () => number;
}

/** What an upstream's refused request is answered with (the upstream's own wire, not our client's). */
function refusal(message: string): ProtocolError {
  return new ProtocolError(RPC.INVALID_REQUEST, `mcp-warden gateway: ${message}`);
}

/**
 * The calls in flight per upstream connection and the exchanges waiting for their client.
 *
 * @example
 * const rounds = new InputRounds({ ttlMs: 600_000, now: Date.now });
 * rounds.install(client);                                // a principal's connection
 * rounds.track(client, exchange, () => client.callTool(params, options));
 * const exchange = rounds.resume(state.g, principalId);  // on the retry; throws when gone
 */
export class InputRounds {
  readonly #ttlMs: number;
  readonly #maxTotal: number;
  readonly #maxPerPrincipal: number;
  readonly #now: () => number;
  /** Calls in flight per connection: an exchange, or a plain marker for any other call. */
  readonly #calls = new Map<Client, Set<object>>();
  /** Suspended exchanges by id (insertion order is age). */
  readonly #waiting = new Map<string, Exchange>();

  constructor(options: InputRoundsOptions) {
    this.#ttlMs = options.ttlMs;
    this.#maxTotal = options.maxTotal ?? 1000;
    this.#maxPerPrincipal = options.maxPerPrincipal ?? 16;
    this.#now = options.now;
  }

  /** Exchanges waiting for their client now. */
  get size(): number {
    return this.#waiting.size;
  }

  /** Whether an exchange of `ownerKey` is waiting (its connections must stay). */
  holds(ownerKey: string): boolean {
    for (const exchange of this.#waiting.values()) if (exchange.ownerKey === ownerKey) return true;
    return false;
  }

  /** Runs `run` counted as a call in flight on `client` (`exchange` when it is a modern tools/call). */
  async track<T>(client: Client, exchange: Exchange | undefined, run: () => Promise<T>): Promise<T> {
    const marker: object = exchange ?? {};
    let calls = this.#calls.get(client);
    if (calls === undefined) this.#calls.set(client, (calls = new Set()));
    calls.add(marker);
    try {
      return await run();
    } finally {
      calls.delete(marker);
      if (calls.size === 0) this.#calls.delete(client);
    }
  }

  /** Registers on `client` (a principal's connection) the handlers of the relayed methods. */
  install(client: Client): void {
    for (const method of RELAYED) {
      client.setRequestHandler(method as 'roots/list', (request, ctx) =>
        this.#asked(client, method, (request as { params?: Record<string, unknown> }).params, ctx.mcpReq.signal) as Promise<never>,
      );
    }
  }

  /**
   * Takes the exchange `id` out of the table for `principalId`'s retry.
   * @throws WardenError `WARDEN_ERR_UPSTREAM_INPUT_GONE` when it expired, was answered or never was.
   */
  resume(id: string, principalId: string, upstream: string): Exchange {
    this.sweep();
    const exchange = this.#waiting.get(id);
    if (exchange === undefined || exchange.principalId !== principalId || exchange.upstream !== upstream) {
      throw new WardenError('WARDEN_ERR_UPSTREAM_INPUT_GONE', { reason: exchange === undefined ? 'unknown_or_expired' : 'foreign', detail: `(upstream "${upstream}")` });
    }
    this.#waiting.delete(id);
    return exchange;
  }

  /** Ends the exchanges whose client did not answer in time: upstream call cancelled, its request refused. */
  sweep(): void {
    const now = this.#now();
    for (const [id, exchange] of this.#waiting) {
      if (now < exchange.expiresAt) continue;
      this.#waiting.delete(id);
      this.#end(exchange, 'the client did not answer in time');
    }
  }

  /** Ends the waiting exchange `id` (its client could not be told about it). */
  abandon(id: string, why: string): void {
    const exchange = this.#waiting.get(id);
    if (exchange === undefined) return;
    this.#waiting.delete(id);
    this.#end(exchange, why);
  }

  /** Ends every waiting exchange (shutdown). */
  clear(): void {
    for (const exchange of this.#waiting.values()) this.#end(exchange, 'the gateway is shutting down');
    this.#waiting.clear();
  }

  #end(exchange: Exchange, why: string): void {
    const error = new WardenError('WARDEN_ERR_UPSTREAM_INPUT_GONE', { reason: 'expired', message: `input round ended: ${why}` });
    exchange.pending?.reject(refusal(why));
    exchange.pending = undefined;
    exchange.controller.abort(error);
  }

  #asked(client: Client, method: RelayedMethod, params: Record<string, unknown> | undefined, signal: AbortSignal): Promise<unknown> {
    this.sweep();
    const calls = this.#calls.get(client);
    if (calls === undefined || calls.size !== 1) throw refusal(`${method} refused: ${calls?.size ?? 0} calls in flight on this connection, so no single client can answer`);
    const [call] = calls;
    if (!(call instanceof Exchange)) throw refusal(`${method} refused: the request in flight cannot carry it to its client (only 2026-07-28 tools/call can)`);
    if (call.pending !== undefined) throw refusal(`${method} refused: an earlier request of this call is still waiting for the client`);
    if (!declares(call.capabilities, method, params)) {
      // Servers ask for roots on their own schedule (server-everything: right after initialize),
      // not for the call in flight: refused upstream, the call goes on.
      if (method === 'roots/list') throw refusal(`${method} refused: the client did not declare this capability`);
      call.push({ kind: 'refused', message: `the upstream "${call.upstream}" asked for ${method}, which this client did not declare; the call was ended` });
      throw refusal(`${method} refused: the client did not declare this capability`);
    }
    if (this.#waiting.size >= this.#maxTotal || this.#countFor(call.principalId) >= this.#maxPerPrincipal) {
      call.push({ kind: 'refused', message: `too many calls through upstream "${call.upstream}" are waiting for client input; the call was ended` });
      throw refusal(`${method} refused: too many calls are waiting for client input`);
    }
    const id = randomBytes(16).toString('base64url');
    call.expiresAt = this.#now() + this.#ttlMs;
    this.#waiting.set(id, call);
    return new Promise((resolve, reject) => {
      call.pending = { resolve, reject };
      // The upstream gave up on its request (cancelled it): nothing to wait for.
      signal.addEventListener(
        'abort',
        () => {
          if (this.#waiting.get(id) === call) this.#waiting.delete(id);
          if (call.pending?.reject === reject) call.pending = undefined;
          reject(signal.reason);
        },
        { once: true },
      );
      call.push({ kind: 'asked', id, request: { method, params } as InputRequest });
    });
  }

  #countFor(principalId: string): number {
    let count = 0;
    for (const exchange of this.#waiting.values()) if (exchange.principalId === principalId) count++;
    return count;
  }
}

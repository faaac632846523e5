/**
 * @module store/redis/signed-bus
 * The envelope every message between replicas travels in: the message, a timestamp, a random
 * id, the sending replica, and an HMAC-SHA256 tag made with the shared secret over all of them
 * and the channel name. A receiver drops (and counts, never throws on) an envelope whose tag
 * does not verify, that is older or newer than the freshness window, whose id it has already
 * seen within the window, or whose message fails its strict schema. A relayed stream message
 * must be a response or a notification: server-to-client requests are delivered only by the
 * replica whose engine issued them, so a relayed request is dropped too.
 */

import { randomUUID } from 'node:crypto';
import { z } from 'zod';
import type { SharedSecret } from '../../security/shared-secret.js';
import { MAX_CHANGE_URI_CHARS, type BusMessage } from '../types.js';

/** Why a received message was dropped (the label of `mcp_warden_bus_dropped_total`). */
export type BusDropReason = 'malformed' | 'too_large' | 'bad_mac' | 'stale' | 'replay' | 'overload' | 'schema' | 'request' | 'handler_error';

/** Messages older or newer than this are dropped (replica clocks must agree within it). */
export const BUS_FRESHNESS_MS = 30_000;
/** Larger envelopes are dropped unread. */
export const MAX_BUS_MESSAGE_CHARS = 8 * 1024 * 1024;
/** Ids remembered for replay detection; past it (a flood), new stream relays are dropped. */
const MAX_REMEMBERED_IDS = 200_000;

const shortText = z.string().min(1).max(256);
const epochMs = z.number().refine(Number.isFinite);

const restrictionSchema = z.strictObject({ id: shortText, disabled: z.boolean(), expiresAt: epochMs.optional() });

const rpcId = z.union([z.string().max(256), z.number().refine(Number.isFinite)]);
/** What may be relayed to another replica's GET stream: a notification or a response. */
const relayedMessageSchema = z.union([
  z.strictObject({ jsonrpc: z.literal('2.0'), method: z.string().min(1).max(256), params: z.record(z.string(), z.unknown()).optional() }),
  z.strictObject({ jsonrpc: z.literal('2.0'), id: rpcId, result: z.record(z.string(), z.unknown()) }),
  z.strictObject({
    jsonrpc: z.literal('2.0'),
    id: rpcId.nullable(),
    error: z.strictObject({ code: z.number().int(), message: z.string().max(4096), data: z.unknown().optional() }),
  }),
]);

const changeSchema = z.discriminatedUnion('kind', [
  z.strictObject({ kind: z.literal('tools_list_changed') }),
  z.strictObject({ kind: z.literal('prompts_list_changed') }),
  z.strictObject({ kind: z.literal('resources_list_changed') }),
  z.strictObject({ kind: z.literal('resource_updated'), uri: z.string().min(1).max(MAX_CHANGE_URI_CHARS) }),
]);

const messageSchema = z.discriminatedUnion('type', [
  z.strictObject({ type: z.literal('session_closed'), origin: shortText, sessionId: shortText }),
  z.strictObject({ type: z.literal('keys_restricted'), origin: shortText, restrictions: z.array(restrictionSchema).max(100_000) }),
  z.strictObject({ type: z.literal('ban'), origin: shortText, client: shortText, until: epochMs }),
  z.strictObject({ type: z.literal('stream'), origin: shortText, sessionId: shortText, message: relayedMessageSchema }),
  z.strictObject({ type: z.literal('change'), origin: shortText, change: changeSchema }),
]);

const envelopeSchema = z.strictObject({
  v: z.literal(1),
  ts: epochMs,
  id: z.string().min(16).max(64),
  origin: shortText,
  body: z.string(),
  tag: z.string().min(1).max(128),
});

/** True for a JSON-RPC request (a `method` and an `id`): never relayed between replicas. */
export function isRequest(message: unknown): boolean {
  return typeof message === 'object' && message !== null && 'method' in message && 'id' in message;
}

export type DecodeResult = { readonly ok: true; readonly message: BusMessage } | { readonly ok: false; readonly reason: BusDropReason };

export interface BusCodecOptions {
  readonly secret: SharedSecret;
  /** The channel the envelopes travel on; part of what the tag covers. */
  readonly channel: string;
  /** Clock, epoch ms (tests advance it). */
  readonly now?: () => number;
  readonly freshnessMs?: number;
  /** Ids remembered for replay detection (default 200,000). */
  readonly maxRememberedIds?: number;
}

/**
 * Seals bus messages into signed envelopes and opens them again.
 *
 * @example
 * const codec = new BusCodec({ secret, channel: keys.events });
 * const text = codec.encode({ type: 'session_closed', origin: replicaId, sessionId });
 * const decoded = codec.decode(text); // { ok: true, message } on another replica
 */
export class BusCodec {
  readonly #secret: SharedSecret;
  readonly #channel: string;
  readonly #now: () => number;
  readonly #freshnessMs: number;
  readonly #maxRememberedIds: number;
  /** Envelope id → arrival time; insertion order is arrival order. */
  readonly #seen = new Map<string, number>();

  constructor(options: BusCodecOptions) {
    this.#secret = options.secret;
    this.#channel = options.channel;
    this.#now = options.now ?? Date.now;
    this.#freshnessMs = options.freshnessMs ?? BUS_FRESHNESS_MS;
    this.#maxRememberedIds = options.maxRememberedIds ?? MAX_REMEMBERED_IDS;
  }

  encode(message: BusMessage): string {
    const body = JSON.stringify(message);
    const ts = this.#now();
    const id = randomUUID();
    const tag = this.#secret.sign('bus', this.#signed(ts, id, message.origin, body));
    return JSON.stringify({ v: 1, ts, id, origin: message.origin, body, tag });
  }

  /** Opens an envelope; never throws. */
  decode(text: string): DecodeResult {
    if (text.length > MAX_BUS_MESSAGE_CHARS) return { ok: false, reason: 'too_large' };
    let raw: unknown;
    try {
      raw = JSON.parse(text);
    } catch {
      return { ok: false, reason: 'malformed' };
    }
    const envelope = envelopeSchema.safeParse(raw);
    if (!envelope.success) return { ok: false, reason: 'malformed' };
    const { ts, id, origin, body, tag } = envelope.data;
    if (!this.#secret.verify('bus', this.#signed(ts, id, origin, body), tag)) return { ok: false, reason: 'bad_mac' };
    const now = this.#now();
    if (Math.abs(now - ts) > this.#freshnessMs) return { ok: false, reason: 'stale' };
    const remembered = this.#remember(id, now);
    if (remembered === 'replay') return { ok: false, reason: remembered };
    let parsed: unknown;
    try {
      parsed = JSON.parse(body);
    } catch {
      return { ok: false, reason: 'schema' };
    }
    if (typeof parsed === 'object' && parsed !== null && (parsed as { type?: unknown }).type === 'stream' && isRequest((parsed as { message?: unknown }).message)) {
      return { ok: false, reason: 'request' };
    }
    const message = messageSchema.safeParse(parsed);
    if (!message.success || message.data.origin !== origin) return { ok: false, reason: 'schema' };
    // Past the replay memory (a flood of genuine relays), stream relays and changes are dropped
    // (a replayed change would be announced twice), but what ends a credential, a session or a
    // client's access still arrives: each is idempotent (a restriction only tightens, a ban
    // carries its end, a closed session stays closed), so delivering it unremembered cannot
    // loosen anything, even if it is replayed.
    if (remembered === 'overload' && (message.data.type === 'stream' || message.data.type === 'change')) return { ok: false, reason: 'overload' };
    return { ok: true, message: message.data as BusMessage };
  }

  #signed(ts: number, id: string, origin: string, body: string): string {
    return `mcp-warden bus v1\n${this.#channel}\n${ts}\n${id}\n${origin}\n${body}`;
  }

  /** Records an id; says why the message must be dropped, if it must. */
  #remember(id: string, now: number): BusDropReason | undefined {
    if (this.#seen.has(id)) return 'replay';
    // A message accepted at t carries a timestamp within t ± window, so it could be replayed
    // until t + 2 × window: forget ids only after that.
    for (const [seenId, at] of this.#seen) {
      if (now - at <= 2 * this.#freshnessMs) break;
      this.#seen.delete(seenId);
    }
    if (this.#seen.size >= this.#maxRememberedIds) return 'overload';
    this.#seen.set(id, now);
    return undefined;
  }
}

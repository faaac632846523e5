/**
 * @module store/byte-budget
 * Byte budgets of the event stores, shared by the memory and Redis implementations: event data
 * is counted in UTF-8 bytes (what it costs in a Buffer, on the wire and in Redis), never in
 * UTF-16 characters, which undercount a multibyte payload up to three times (an emoji is 2
 * characters and 4 bytes). Defaults are documented in the README (options table).
 */

/** Bytes of event data kept per stream (default 1 MiB). */
export const DEFAULT_STREAM_BYTES = 1024 * 1024;
/** Bytes of event data kept for one principal's streams (default 16 MiB). */
export const DEFAULT_PRINCIPAL_BYTES = 16 * 1024 * 1024;
/** Bytes of event data kept in all (default 64 MiB; in Redis: for all replicas together). */
export const DEFAULT_TOTAL_BYTES = 64 * 1024 * 1024;

export interface EventByteBudgets {
  /** Bytes per stream; the newest event of a stream is kept even when larger (memory only). */
  readonly maxStreamBytes?: number;
  /** Bytes per principal, over all of its streams. */
  readonly maxPrincipalBytes?: number;
  /** Bytes in all. */
  readonly maxBytes?: number;
  /** The principal a stream belongs to (streams of unknown owner share the budget of `''`). */
  readonly ownerOf?: (streamId: string) => string | undefined;
}

/** UTF-8 bytes of a string. */
export function utf8Bytes(text: string): number {
  return Buffer.byteLength(text, 'utf8');
}

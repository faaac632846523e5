/**
 * @module mcp/transport/resume
 * `Last-Event-ID` resumption (MCP "Transports", Resumability and Redelivery): a GET naming
 * the last event a client saw gets the events it missed on that stream.
 */

import type { LiveSession } from '../sessions.js';
import type { EventStore, StoredEvents } from '../../store/types.js';
import { formatEvent, parseEventId } from './sse.js';
import { SSE_HEADERS, fail, type HttpSink, type McpHttpResponse } from './types.js';

/** Reconnection delay suggested to a client whose resumed stream was closed early (SSE `retry:`). */
const RESUME_RETRY_MS = 1000;

export interface ResumeStores {
  /** Streams of this process; answers synchronously. */
  readonly local: EventStore;
  /** Streams of other replicas (optional). */
  readonly shared?: EventStore | undefined;
}

function writeEvents(sink: HttpSink, streamId: string, events: StoredEvents['events']): void {
  for (const event of events) sink.write(formatEvent(event.data, `${streamId}/${event.seq}`));
}

/**
 * Replays the events the client missed on the named stream, then continues it when the
 * stream still runs here; a stream that ended (or runs on another replica) is replayed and
 * closed with a retry hint, so the client comes back for more.
 */
export function resumeStream(session: LiveSession, lastEventId: string, stores: ResumeStores): McpHttpResponse | Promise<McpHttpResponse> {
  const parsed = parseEventId(lastEventId);
  // An id of another session is treated as unknown: a client cannot read someone else's stream.
  if (parsed === undefined || parsed.sessionId !== session.id) return fail('WARDEN_ERR_INVALID_REQUEST', 'event_id');
  const { streamId, seq } = parsed;
  const headers = { ...SSE_HEADERS, 'mcp-session-id': session.id };
  const live = session.channel.liveStream(streamId);
  if (live !== undefined) {
    if (live.attached) return fail('WARDEN_ERR_STREAM_CONFLICT', 'stream_attached');
    const missed = (stores.local.replay(streamId, seq) as StoredEvents | undefined)?.events ?? [];
    return {
      kind: 'stream',
      status: 200,
      headers,
      attach: (sink) => {
        writeEvents(sink, streamId, missed);
        live.attach(sink);
      },
    };
  }
  const replay = (found: StoredEvents | undefined): McpHttpResponse => {
    if (found === undefined) return fail('WARDEN_ERR_INVALID_REQUEST', 'unknown_stream');
    return {
      kind: 'stream',
      status: 200,
      headers,
      attach: (sink) => {
        writeEvents(sink, streamId, found.events);
        if (!found.ended) sink.write(`retry: ${RESUME_RETRY_MS}\n\n`);
        sink.end();
      },
    };
  };
  const local = stores.local.replay(streamId, seq) as StoredEvents | undefined;
  if (local !== undefined && local.ended && session.channel.isStandalone(streamId)) {
    // The GET stream ended here (its lifetime, a restart of the listener): the client gets what
    // it missed and, on the same response, the session's new GET stream.
    const next = session.channel.openStandalone();
    if (next !== undefined) {
      return {
        kind: 'stream',
        status: 200,
        headers,
        attach: (sink) => {
          writeEvents(sink, streamId, local.events);
          next.attach(sink);
        },
      };
    }
  }
  if (local !== undefined || stores.shared === undefined) return replay(local);
  return Promise.resolve(stores.shared.replay(streamId, seq)).then(replay, () => replay(undefined));
}

/**
 * @module mcp/transport/sse-parse
 * Reading Server-Sent Events (WHATWG HTML §9.2.6), the other side of {@link ./sse.ts}: the one
 * parser shared by the `check` audit, the benchmark and the tests. Lines end in LF, CRLF or CR;
 * a field's value follows its colon and one optional space; `data` lines join with newlines;
 * an event ends at a blank line. Pure text in, events out: no I/O.
 */

/** One event as received. `data` is undefined when the event had no `data` line. */
export interface SseEvent {
  readonly id: string | undefined;
  readonly event: string | undefined;
  readonly data: string | undefined;
  readonly retry: number | undefined;
}

/** The complete events in `text`, and the unfinished rest (an event still being received). */
export function parseSseEvents(text: string): { events: SseEvent[]; rest: string } {
  const blocks = text.replace(/\r\n?/g, '\n').split('\n\n');
  const rest = blocks.pop() ?? '';
  const events: SseEvent[] = [];
  for (const block of blocks) {
    let id: string | undefined;
    let event: string | undefined;
    let retry: number | undefined;
    const data: string[] = [];
    for (const line of block.split('\n')) {
      const colon = line.indexOf(':');
      if (colon <= 0) continue; // a comment (": keep-alive") or a line without a field
      const field = line.slice(0, colon);
      const value = line.slice(line.startsWith(' ', colon + 1) ? colon + 2 : colon + 1);
      if (field === 'data') data.push(value);
      else if (field === 'id') id = value;
      else if (field === 'event') event = value;
      else if (field === 'retry' && /^\d+$/.test(value)) retry = Number(value);
    }
    if (data.length > 0 || id !== undefined || event !== undefined || retry !== undefined) {
      events.push({ id, event, data: data.length > 0 ? data.join('\n') : undefined, retry });
    }
  }
  return { events, rest };
}

/** The `data` payloads of the complete events in an SSE text (events without data are skipped). */
export function sseData(text: string): string[] {
  return parseSseEvents(text).events.flatMap((event) => (event.data === undefined ? [] : [event.data]));
}

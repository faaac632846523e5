/**
 * Resumable SSE streams (Streamable HTTP §resumability and redelivery): every event of a
 * session's stream carries an id; a client that lost the connection reconnects with
 * Last-Event-ID and receives what it missed, then the rest of the stream.
 */

import { describe, expect, it } from 'vitest';
import { mcpHeaders } from '../helpers/http.js';
import { countStream, openSse } from '../helpers/sse.js';
import { openSession, useSharedWarden } from '../helpers/warden.js';
import { sleep } from '../helpers/wait.js';
import { streamingServer } from '../helpers/mcp-servers.js';


describe('resumable streams', () => {
  const warden = useSharedWarden({ mcpServer: streamingServer });

  it('a POST stream cut off mid-way is resumed with Last-Event-ID: the missed events, then the result', async () => {
    const { stream: first, headers, session } = await countStream(warden, { n: 6, id: 'slow' });
    expect(first.headers['content-type']).toBe('text/event-stream');
    const seen = await first.waitFor(2);
    first.close();
    const lastId = seen[1]?.id as string;
    expect(lastId).toMatch(new RegExp(`^${session.sessionId}/\\d+/2$`));

    await sleep(150);
    const resumed = await openSse(warden.mcpUrl, {
      headers: { ...headers, accept: 'text/event-stream', 'last-event-id': lastId },
    });
    expect(resumed.status).toBe(200);
    await resumed.ended(3000);
    const messages = resumed.events.map((event) => JSON.parse(event.data) as { method?: string; params?: { progress: number }; id?: string; result?: unknown });
    expect(messages.filter((message) => message.method === 'notifications/progress').map((message) => message.params?.progress)).toEqual([3, 4, 5, 6]);
    expect(messages[messages.length - 1]).toMatchObject({ id: 'slow', result: { content: [{ text: 'counted to 6' }] } });
    const seqs = resumed.events.map((event) => Number(event.id?.split('/')[2]));
    expect(seqs).toEqual([3, 4, 5, 6, 7]);
  });

  it('the GET stream keeps what was sent while the client was away and redelivers it', async () => {
    const session = await openSession(warden);
    const headers = mcpHeaders(warden.key, { 'mcp-session-id': session.sessionId, 'mcp-protocol-version': session.version });
    const addTool = (id: number) =>
      fetch(warden.mcpUrl, { method: 'POST', headers, body: JSON.stringify({ jsonrpc: '2.0', id, method: 'tools/call', params: { name: 'add_tool', arguments: {} } }) }).then((response) => response.text());
    const stream = await openSse(warden.mcpUrl, { headers: { ...headers, accept: 'text/event-stream' } });
    await sleep(50);
    await addTool(1);
    const [first] = await stream.waitFor(1);
    expect(JSON.parse(first?.data ?? '{}')).toMatchObject({ method: 'notifications/tools/list_changed' });
    stream.close();
    await sleep(50);
    await addTool(2);
    await addTool(3);
    const resumed = await openSse(warden.mcpUrl, { headers: { ...headers, accept: 'text/event-stream', 'last-event-id': first?.id as string } });
    const missed = await resumed.waitFor(2);
    expect(missed.map((event) => Number(event.id?.split('/')[2]))).toEqual([2, 3]);
    await addTool(4);
    const live = await resumed.waitFor(3);
    expect(Number(live[2]?.id?.split('/')[2])).toBe(4);
    resumed.close();
  });

  it('an event id of another session, or of no stream, is refused with 400', async () => {
    const mine = await openSession(warden);
    const theirs = await openSession(warden);
    const headers = mcpHeaders(warden.key, { 'mcp-session-id': mine.sessionId, 'mcp-protocol-version': mine.version, accept: 'text/event-stream' });
    for (const id of [`${theirs.sessionId}/1/1`, `${mine.sessionId}/999/1`, 'garbage', `${mine.sessionId}/x/1`]) {
      const response = await fetch(warden.mcpUrl, { headers: { ...headers, 'last-event-id': id } });
      expect(response.status, id).toBe(400);
      expect(await response.json()).toEqual({ jsonrpc: '2.0', error: { code: -32600, message: 'Invalid Request' }, id: null });
    }
  });

  it('a stream that already finished is replayed from the last id and closed', async () => {
    const { stream: done, headers } = await countStream(warden, { n: 2, id: 'quick' });
    await done.ended();
    const firstId = done.events[0]?.id as string;
    const replay = await openSse(warden.mcpUrl, { headers: { ...headers, accept: 'text/event-stream', 'last-event-id': firstId } });
    await replay.ended();
    expect(replay.events.map((event) => (JSON.parse(event.data) as { id?: string; method?: string }).id ?? (JSON.parse(event.data) as { method: string }).method)).toEqual([
      'notifications/progress',
      'quick',
    ]);
  });
});

/**
 * The listen hub's timing and the change relay, without a server: keep-alive comments come on
 * the injected timer (every 15 s by default) and stop with the stream, engine messages map to
 * changes, and replicas sharing one bus hear each other's changes but never their own.
 */

import { PassThrough } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { ANONYMOUS } from '../../src/security/identity.js';
import { changeOf, ListenHub } from '../../src/mcp/transport/listen.js';
import type { KeepAliveTimer } from '../../src/mcp/transport/sse.js';
import { ChangeSharing } from '../../src/shared-state/change-sharing.js';
import { LocalEventBus } from '../../src/store/memory/event-bus.js';
import type { ServerChange } from '../../src/store/types.js';

/** A keep-alive timer moved by hand: `fire()` runs every armed tick once. */
function manualTimer(): { timer: KeepAliveTimer; armed: number[]; fire(): void; active(): number } {
  const ticks = new Set<() => void>();
  const armed: number[] = [];
  return {
    timer: (tick, everyMs) => {
      armed.push(everyMs);
      ticks.add(tick);
      return () => ticks.delete(tick);
    },
    armed,
    fire: () => {
      for (const tick of ticks) tick();
    },
    active: () => ticks.size,
  };
}

function openOn(hub: ListenHub, id: string): PassThrough {
  const response = hub.open({
    id,
    params: { notifications: { toolsListChanged: true } },
    principal: ANONYMOUS,
    acceptsSse: true,
    capabilities: { tools: { listChanged: true } },
    serverInfo: undefined,
    resourceAllowed: () => true,
  });
  if (response.kind !== 'stream') throw new Error(`not a stream: ${JSON.stringify(response)}`);
  const sink = new PassThrough();
  sink.setEncoding('utf8');
  response.attach(sink);
  return sink;
}

function written(sink: PassThrough): string {
  let text = '';
  for (let chunk = sink.read() as string | null; chunk !== null; chunk = sink.read() as string | null) text += chunk;
  return text;
}

describe('ListenHub keep-alive', () => {
  it('writes a comment line on every tick of its timer, every 15 s by default, and stops with the stream', () => {
    const clock = manualTimer();
    const hub = new ListenHub({ maxStreams: 10, maxPerPrincipal: 10, keepAliveTimer: clock.timer });
    const sink = openOn(hub, 'k');
    expect(clock.armed).toEqual([15_000]);
    expect(written(sink)).toContain('notifications/subscriptions/acknowledged');
    clock.fire();
    clock.fire();
    expect(written(sink)).toBe(': keepalive\n\n: keepalive\n\n');
    hub.closeAll();
    expect(clock.active()).toBe(0);
    expect(written(sink)).toContain('"resultType":"complete"');
    expect(hub.size).toBe(0);
  });

  it('a client that goes away stops the keep-alive and frees the slot', () => {
    const clock = manualTimer();
    const hub = new ListenHub({ maxStreams: 10, maxPerPrincipal: 10, keepAliveTimer: clock.timer, keepAliveMs: 5_000 });
    const sink = openOn(hub, 'gone');
    expect(clock.armed).toEqual([5_000]);
    expect(hub.size).toBe(1);
    sink.destroy();
    return new Promise<void>((resolve) => {
      sink.on('close', () => {
        expect(clock.active()).toBe(0);
        expect(hub.size).toBe(0);
        resolve();
      });
    });
  });
});

describe('a client gone before the head was written', () => {
  it('holds no slot and arms no keep-alive (its close event has already been emitted)', () => {
    const clock = manualTimer();
    const hub = new ListenHub({ maxStreams: 1, maxPerPrincipal: 1, keepAliveTimer: clock.timer });
    const response = hub.open({ id: 'x', params: { notifications: { toolsListChanged: true } }, principal: ANONYMOUS, acceptsSse: true, capabilities: { tools: { listChanged: true } }, serverInfo: undefined, resourceAllowed: () => true });
    if (response.kind !== 'stream') throw new Error('not a stream');
    const sink = new PassThrough();
    sink.destroy();
    response.attach(sink);
    expect(clock.active()).toBe(0);
    expect(hub.size).toBe(0);
    // The slot is free again: the cap of one admits the next stream.
    expect(openOn(hub, 'y')).toBeInstanceOf(PassThrough);
    hub.closeAll();
  });
});

describe('changes', () => {
  it('maps what the engine sends outside requests to changes; anything else is not one', () => {
    expect(changeOf({ jsonrpc: '2.0', method: 'notifications/tools/list_changed' })).toEqual({ kind: 'tools_list_changed' });
    expect(changeOf({ jsonrpc: '2.0', method: 'notifications/prompts/list_changed' })).toEqual({ kind: 'prompts_list_changed' });
    expect(changeOf({ jsonrpc: '2.0', method: 'notifications/resources/list_changed' })).toEqual({ kind: 'resources_list_changed' });
    expect(changeOf({ jsonrpc: '2.0', method: 'notifications/resources/updated', params: { uri: 'x://1' } })).toEqual({ kind: 'resource_updated', uri: 'x://1' });
    expect(changeOf({ jsonrpc: '2.0', method: 'notifications/resources/updated', params: {} })).toBeUndefined();
    expect(changeOf({ jsonrpc: '2.0', method: 'notifications/message', params: { level: 'info', data: 'x' } })).toBeUndefined();
    expect(changeOf({ jsonrpc: '2.0', id: 1, method: 'notifications/tools/list_changed' } as never)).toBeUndefined();
  });

  it('replicas on one bus hear each other\u2019s changes, never their own', async () => {
    const bus = new LocalEventBus();
    const a = new ChangeSharing({ bus, replicaId: 'a' });
    const b = new ChangeSharing({ bus, replicaId: 'b' });
    const heardByA: ServerChange[] = [];
    const heardByB: ServerChange[] = [];
    a.onRemote((change) => heardByA.push(change));
    b.onRemote((change) => heardByB.push(change));
    a.publish({ kind: 'tools_list_changed' });
    b.publish({ kind: 'resource_updated', uri: 'x://1' });
    await Promise.resolve();
    expect(heardByA).toEqual([{ kind: 'resource_updated', uri: 'x://1' }]);
    expect(heardByB).toEqual([{ kind: 'tools_list_changed' }]);
  });

  it('a change received from another replica goes to the local streams and not back to the bus', () => {
    const published: ServerChange[] = [];
    let remote: ((change: ServerChange) => void) | undefined;
    const hub = new ListenHub({
      maxStreams: 10,
      maxPerPrincipal: 10,
      keepAliveTimer: () => () => undefined,
      relay: { publish: (change) => void published.push(change), onRemote: (handler) => void (remote = handler) },
    });
    const sink = openOn(hub, 'r');
    written(sink);
    remote?.({ kind: 'tools_list_changed' });
    expect(written(sink)).toContain('notifications/tools/list_changed');
    expect(published).toEqual([]);
    hub.notifier.toolsListChanged();
    expect(published).toEqual([{ kind: 'tools_list_changed' }]);
    hub.closeAll();
  });
});

/**
 * The contract every EventBus must keep, run against each implementation: a subscriber
 * receives every message exactly as published, in the order one publisher sent them; the
 * publisher's own subscribers receive its messages too, origin unchanged (filtering by
 * `origin` is the receiver's job); a handler that throws neither stops the other handlers nor
 * fails the publisher, and is reported.
 */

import { describe, expect, it, onTestFinished, vi } from 'vitest';
import type { BusMessage, EventBus } from '../../src/store/types.js';

/** Two replicas' buses on one medium (the same bus twice for a single process). */
export interface BusHarness {
  readonly publisher: EventBus;
  readonly subscriber: EventBus;
  /** Handler failures reported so far (the implementation's error/drop callback). */
  readonly handlerErrors: () => number;
  close(): Promise<void>;
}

export type BusHarnessFactory = () => Promise<BusHarness>;

const closed = (index: number): BusMessage => ({ type: 'session_closed', origin: 'replica-a', sessionId: `s-${index}` });

async function open(factory: BusHarnessFactory): Promise<BusHarness> {
  const harness = await factory();
  onTestFinished(() => harness.close());
  return harness;
}

export function eventBusContract(name: string, factory: BusHarnessFactory): void {
  describe(`EventBus contract: ${name}`, () => {
    it('delivers every kind of message to a subscriber exactly as published', async () => {
      const { publisher, subscriber } = await open(factory);
      const received: BusMessage[] = [];
      subscriber.onMessage((message) => received.push(message));
      const sent: BusMessage[] = [
        closed(1),
        { type: 'keys_restricted', origin: 'replica-a', restrictions: [{ id: 'k1', disabled: true }, { id: 'k2', disabled: false, expiresAt: 1_900_000_000_000 }] },
        { type: 'ban', origin: 'replica-a', client: '203.0.113.7', until: 1_900_000_000_000 },
        { type: 'stream', origin: 'replica-a', sessionId: 's-1', message: { jsonrpc: '2.0', method: 'notifications/message', params: { level: 'info', data: 'é ✓' } } },
        { type: 'change', origin: 'replica-a', change: { kind: 'tools_list_changed' } },
        { type: 'change', origin: 'replica-a', change: { kind: 'resource_updated', uri: 'file:///é ✓.txt' } },
      ];
      for (const message of sent) await publisher.publish(message);
      await vi.waitFor(() => expect(received).toHaveLength(sent.length), { timeout: 2000, interval: 10 });
      expect(received).toEqual(sent);
    });

    it('keeps the order of one publisher', async () => {
      const { publisher, subscriber } = await open(factory);
      const received: string[] = [];
      subscriber.onMessage((message) => received.push(message.type === 'session_closed' ? message.sessionId : message.type));
      const sent = Array.from({ length: 50 }, (_, index) => closed(index));
      await Promise.all(sent.map((message) => publisher.publish(message)));
      await vi.waitFor(() => expect(received).toHaveLength(sent.length), { timeout: 2000, interval: 10 });
      expect(received).toEqual(sent.map((message) => (message as { sessionId: string }).sessionId));
    });

    it("delivers a replica's own messages to its own subscribers, origin unchanged", async () => {
      const { publisher } = await open(factory);
      const own: BusMessage[] = [];
      publisher.onMessage((message) => own.push(message));
      await publisher.publish(closed(7));
      await vi.waitFor(() => expect(own).toEqual([closed(7)]), { timeout: 2000, interval: 10 });
    });

    it('isolates a handler that throws: the others still receive, the publisher does not fail, the failure is reported', async () => {
      const { publisher, subscriber, handlerErrors } = await open(factory);
      const received: BusMessage[] = [];
      subscriber.onMessage(() => {
        throw new TypeError('restrictions is not iterable');
      });
      subscriber.onMessage((message) => received.push(message));
      await expect(publisher.publish(closed(1))).resolves.toBeUndefined();
      await publisher.publish(closed(2));
      await vi.waitFor(() => expect(received).toEqual([closed(1), closed(2)]), { timeout: 2000, interval: 10 });
      expect(handlerErrors()).toBe(2);
    });

  });
}

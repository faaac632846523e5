/**
 * `confirm_action` in process (the built-in server over the SDK's in-memory transport, a 2025
 * session that declared elicitation): responses the client volunteers without a verified
 * `requestState` confirm nothing, the tool asks instead (with its own message); a target with
 * control characters is refused before anyone is asked.
 */

import { afterEach, describe, expect, it } from 'vitest';
import { InMemoryTransport, type JSONRPCMessage } from '@modelcontextprotocol/server';
import { createBuiltinServer } from '../../src/mcp/builtin-server.js';
import { authInfoOf, type Principal } from '../../src/security/identity.js';
import { builtinContext } from '../helpers/mcp-servers.js';

const ALICE: Principal = Object.freeze({ kind: 'api-key', id: 'fp-alice', name: undefined });
const stops: Array<() => Promise<void>> = [];
afterEach(async () => {
  for (const stop of stops.splice(0)) await stop();
});

/** A session on the built-in server whose client declared elicitation and answers each question with `answer`. */
async function session(answer: Record<string, unknown>): Promise<{ call(params: Record<string, unknown>): Promise<Record<string, unknown>>; asked: string[] }> {
  const server = createBuiltinServer(builtinContext());
  const [client, side] = InMemoryTransport.createLinkedPair();
  side.sessionId = 'session-1';
  const asked: string[] = [];
  const answers = new Map<unknown, (message: JSONRPCMessage) => void>();
  client.onmessage = (message) => {
    if ('method' in message && 'id' in message) {
      asked.push(String((message.params as { message?: unknown }).message));
      void client.send({ jsonrpc: '2.0', id: message.id, result: answer });
    } else if ('id' in message) answers.get(message.id)?.(message);
  };
  await server.connect(side);
  await client.start();
  stops.push(() => server.close());
  let id = 0;
  const request = (method: string, params: Record<string, unknown>): Promise<Record<string, unknown>> => {
    const own = ++id;
    const answered = new Promise<Record<string, unknown>>((resolve) => answers.set(own, (message) => resolve(message as unknown as Record<string, unknown>)));
    void client.send({ jsonrpc: '2.0', id: own, method, params }, { authInfo: authInfoOf(ALICE) });
    return answered;
  };
  await request('initialize', { protocolVersion: '2025-11-25', capabilities: { elicitation: {} }, clientInfo: { name: 't', version: '1' } });
  await client.send({ jsonrpc: '2.0', method: 'notifications/initialized' });
  return { call: (params) => request('tools/call', params), asked };
}

describe('confirm_action', () => {
  it('an accepted confirmation the client volunteers without requestState confirms nothing: the user is asked', async () => {
    const { call, asked } = await session({ action: 'decline' });
    const answer = await call({
      name: 'confirm_action',
      arguments: { action: 'delete', target: 'db-1' },
      inputResponses: { confirm: { action: 'accept', content: { confirm: true } } },
    });
    expect(asked).toEqual(["Confirm: delete db-1? (mcp-warden's confirm_action changes nothing.)"]);
    expect(answer['result']).toMatchObject({ content: [{ type: 'text', text: 'Cancelled: delete db-1 was not confirmed; nothing was done' }] });
  });

  it('refuses arguments it could not show safely (control characters) with the usual validation error', async () => {
    const { call, asked } = await session({ action: 'accept', content: { confirm: true } });
    const answer = await call({ name: 'confirm_action', arguments: { action: 'delete', target: 'db\n-1' } });
    expect(answer['result']).toMatchObject({ isError: true });
    expect(asked).toEqual([]);
  });
});

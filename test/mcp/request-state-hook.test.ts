/**
 * The request-state codec at the SDK v2 seam (`mcp/request-state-hook`), in process over the
 * SDK's in-memory transport: a bound server's handlers mint state for their own request and
 * principal (from `ctx.http.authInfo`), the SDK's legacy shim re-enters with it and `verify`
 * hands the payload back; a forged state, or a server that was not bound, gets the SDK's frozen
 * -32602 and the reason goes to `onRefused` only; `bind` refuses to run after registration.
 */

import { afterEach, describe, expect, it } from 'vitest';
import { InMemoryTransport, McpServer, inputRequired, type AuthInfo, type JSONRPCMessage } from '@modelcontextprotocol/server';
import { RequestStateCodec } from '../../src/mcp/request-state.js';
import { createRequestStateTools, type RequestStateTools } from '../../src/mcp/request-state-hook.js';
import { authInfoOf, type Principal } from '../../src/security/identity.js';
import { SharedSecret } from '../../src/security/shared-secret.js';

const ALICE: Principal = Object.freeze({ kind: 'api-key', id: 'fp-alice', name: undefined });
const FROZEN = { code: -32602, message: 'Invalid or expired requestState', data: { reason: 'invalid_request_state' } };

function tools(refused: string[]): RequestStateTools {
  const codec = new RequestStateCodec({ secret: new SharedSecret({ current: 'hook-test-secret-0123456789abcdefghijkl' }), ttlSeconds: 60 });
  return createRequestStateTools(codec, { onRefused: (reason, method) => refused.push(`${method}:${reason}`) });
}

/**
 * A server with `step`: round 1 seals `{ round: 1 }`; a round carrying state answers with its payload.
 * `bind: 'late'` binds after registration (handlers already installed, as an McpServer built
 * with tools capabilities has them).
 */
function stepServer(requestState: RequestStateTools, bind: boolean | 'late'): McpServer {
  const server = new McpServer({ name: 'steps', version: '1.0.0' }, { requestState: { verify: requestState.verify } });
  if (bind === true) requestState.bind(server);
  server.registerTool('step', { description: 'two rounds' }, (ctx) => {
    const state = ctx.mcpReq.requestState<{ round: number }>();
    if (state === undefined) return inputRequired({ requestState: requestState.mint({ round: 1 }, ctx) });
    return { content: [{ type: 'text', text: `round ${state.round} came back` }] };
  });
  if (bind === 'late') requestState.bind(server);
  return server;
}

const open: Array<() => Promise<void>> = [];
afterEach(async () => {
  for (const close of open.splice(0)) await close();
});

/** Connects `server` in memory, initializes, and returns a `call` that sends one `tools/call` with `authInfo`. */
async function connect(server: McpServer): Promise<(params: Record<string, unknown>, authInfo?: AuthInfo) => Promise<Record<string, unknown>>> {
  const [client, side] = InMemoryTransport.createLinkedPair();
  const answers = new Map<unknown, (message: JSONRPCMessage) => void>();
  client.onmessage = (message) => {
    if ('id' in message && !('method' in message)) answers.get(message.id)?.(message);
  };
  await server.connect(side);
  await client.start();
  open.push(() => server.close());
  let id = 0;
  const request = (method: string, params: Record<string, unknown>, authInfo?: AuthInfo): Promise<Record<string, unknown>> => {
    const own = ++id;
    const answered = new Promise<Record<string, unknown>>((resolve) => answers.set(own, (message) => resolve(message as unknown as Record<string, unknown>)));
    void client.send({ jsonrpc: '2.0', id: own, method, params }, authInfo === undefined ? undefined : { authInfo });
    return answered;
  };
  await request('initialize', { protocolVersion: '2025-11-25', capabilities: {}, clientInfo: { name: 't', version: '1' } });
  await client.send({ jsonrpc: '2.0', method: 'notifications/initialized' });
  return (params, authInfo) => request('tools/call', params, authInfo);
}

describe('requestState at the SDK seam', () => {
  it('a bound server mints for its own request and principal; the legacy shim re-enters and verify hands the payload back', async () => {
    const refused: string[] = [];
    const call = await connect(stepServer(tools(refused), true));
    const answer = await call({ name: 'step', arguments: {} }, authInfoOf(ALICE));
    expect(answer['result']).toMatchObject({ content: [{ type: 'text', text: 'round 1 came back' }] });
    expect(refused).toEqual([]);
  });

  it('a forged state gets the frozen -32602 before the handler runs; the reason goes to onRefused only', async () => {
    const refused: string[] = [];
    const call = await connect(stepServer(tools(refused), true));
    const answer = await call({ name: 'step', arguments: {}, requestState: 'v1.e30.AAAAAAAA.' + 'A'.repeat(43) }, authInfoOf(ALICE));
    expect(answer['error']).toEqual(FROZEN);
    expect(refused).toEqual(['tools/call:tag']);
  });

  it('without an mcp-warden principal nothing is minted (tool error) and any state is refused as unbound', async () => {
    const refused: string[] = [];
    const call = await connect(stepServer(tools(refused), true));
    // No auth info, or auth info that only looks like ours.
    const lookalike: AuthInfo = { ...authInfoOf(ALICE) };
    for (const authInfo of [undefined, lookalike]) {
      expect((await call({ name: 'step', arguments: {} }, authInfo))['result']).toMatchObject({ isError: true });
      expect((await call({ name: 'step', arguments: {}, requestState: 'v1.e30.AAAAAAAA.' + 'A'.repeat(43) }, authInfo))['error']).toEqual(FROZEN);
    }
    expect(refused).toEqual(['tools/call:unbound', 'tools/call:unbound']);
  });

  it('an unbound server cannot mint, and refuses every state as unbound', async () => {
    const refused: string[] = [];
    const call = await connect(stepServer(tools(refused), false));
    expect((await call({ name: 'step', arguments: {} }, authInfoOf(ALICE)))['result']).toMatchObject({ isError: true });
    expect((await call({ name: 'step', arguments: {}, requestState: 'v1.x.y.z' }, authInfoOf(ALICE)))['error']).toEqual(FROZEN);
    expect(refused).toEqual(['tools/call:unbound']);
  });

  it('bind after registration wraps the installed handlers (their contexts carry the request too), and binding twice is harmless', async () => {
    const refused: string[] = [];
    const call = await connect(stepServer(tools(refused), 'late'));
    const answer = await call({ name: 'step', arguments: {} }, authInfoOf(ALICE));
    expect(answer['result']).toMatchObject({ content: [{ type: 'text', text: 'round 1 came back' }] });
    expect(refused).toEqual([]);
    const requestState = tools([]);
    const early = new McpServer({ name: 'early', version: '1.0.0' });
    expect(requestState.bind(requestState.bind(early))).toBe(early);
  });
});

/**
 * @module mcp/request-state-hook
 * The request-state codec (`mcp/request-state`) at the SDK v2 seam: `mint(payload, ctx)` in a
 * handler, `verify` as `ServerOptions.requestState.verify`, both deriving the binding from the
 * handler context alone, so they work the same on every path that serves the server (2025
 * sessions, stateless requests, the 2026-07-28 modern path) and in the SDK's legacy shim.
 *
 * Who asked: `ctx.http.authInfo`, mapped back to its principal (`principalOfAuthInfo`); only auth
 * info our transport built counts, so a request without it is refused rather than bound to
 * nobody. Which request: the SDK hands `verify` a context without the request's params, so
 * {@link RequestStateTools.bind} makes the server's `tools/call`, `prompts/get` and
 * `resources/read` contexts carry their JSON-RPC request (through `Server._wrapHandler`, the SDK's
 * protected hook for wrapping registered handlers). No AsyncLocalStorage: its promise hooks
 * would tax every request of the process.
 */

import type { JSONRPCRequest, McpServer, Server, ServerContext } from '@modelcontextprotocol/server';
import { isWardenError } from '../errors.js';
import { principalOfAuthInfo } from '../security/identity.js';
import { refuse, type RequestStateBinding, type RequestStateCodec, type RequestStateRefusal } from './request-state.js';

/** The methods whose results may be `input_required` (MCP 2026-07-28 basic/patterns/mrtr §Supported Requests). */
const MULTI_ROUND_TRIP_METHODS: ReadonlySet<string> = new Set(['tools/call', 'prompts/get', 'resources/read']);

/** Where a bound server's handler context carries its request. */
const REQUEST = Symbol('mcp-warden.request');
const BOUND = Symbol('mcp-warden.request-state-bound');

type Handler = (request: JSONRPCRequest, ctx: ServerContext) => Promise<unknown>;
type WrapHook = { _wrapHandler(method: string, handler: Handler): Handler; _requestHandlers?: Map<string, Handler> } & Record<symbol, unknown>;
type CarryingContext = ServerContext & { [REQUEST]?: JSONRPCRequest };

/** The codec as handlers and `ServerOptions` use it. */
export interface RequestStateTools {
  /**
   * Seals `payload` (JSON; not `undefined`) for the request being handled: the string to return
   * in `inputRequired({ requestState })`. Throws when the server was not bound or the request has
   * no principal (a tool then answers a tool error).
   */
  mint(payload: unknown, ctx: ServerContext): string;
  /**
   * `ServerOptions.requestState.verify`: the payload when the state is ours, unexpired, and made
   * for this principal, method, name and arguments; throws otherwise (the SDK answers -32602
   * "Invalid or expired requestState" with `data.reason: "invalid_request_state"`).
   */
  verify(state: string, ctx: ServerContext): unknown;
  /**
   * Makes `server`'s multi round-trip handlers carry their request in the context: those
   * registered later (through the SDK's handler hook) and those already installed (wrapped).
   */
  bind<S extends McpServer | Server>(server: S): S;
  /** The codec itself, bound to explicit bindings (tests and tooling). */
  readonly codec: RequestStateCodec;
}

export interface RequestStateToolsOptions {
  /** Told why a state was refused (the reason never reaches the client). */
  readonly onRefused?: ((reason: RequestStateRefusal, method: string) => void) | undefined;
}

/** The binding of the request `ctx` belongs to; undefined when the server is unbound or the caller unknown. */
function bindingOf(ctx: ServerContext): RequestStateBinding | undefined {
  const request = (ctx as CarryingContext)[REQUEST];
  const principal = principalOfAuthInfo(ctx.http?.authInfo);
  if (request === undefined || principal === undefined) return undefined;
  const params = request.params ?? {};
  const resource = request.method === 'resources/read';
  const name = resource ? params['uri'] : params['name'];
  return { principal, method: request.method, name: typeof name === 'string' ? name : '', arguments: resource ? undefined : params['arguments'] };
}

function engineOf(server: McpServer | Server): Server {
  return 'registerTool' in server ? server.server : server;
}

/**
 * The SDK-facing side of `codec`.
 *
 * @example
 * const requestState = createRequestStateTools(codec);
 * const server = requestState.bind(new McpServer(info, { requestState: { verify: requestState.verify } }));
 * server.registerTool('deploy', config, (args, ctx) =>
 *   inputRequired({ inputRequests: { confirm: inputRequired.elicit(ask) }, requestState: requestState.mint({ step: 1 }, ctx) }));
 */
export function createRequestStateTools(codec: RequestStateCodec, options: RequestStateToolsOptions = {}): RequestStateTools {
  const onRefused = options.onRefused;
  return {
    codec,
    mint(payload, ctx) {
      const binding = bindingOf(ctx);
      if (binding === undefined) {
        throw new Error('requestState.mint: the request carries no mcp-warden principal, or its server was not bound with requestState.bind(server)');
      }
      return codec.mint(payload, binding);
    },
    verify(state, ctx) {
      try {
        const binding = bindingOf(ctx);
        if (binding === undefined) refuse('unbound');
        return codec.verify(state, binding);
      } catch (error) {
        if (isWardenError(error)) onRefused?.(error.reason as RequestStateRefusal, ctx.mcpReq.method);
        throw error;
      }
    },
    bind(server) {
      const engine = engineOf(server);
      const hook = engine as unknown as WrapHook;
      if (hook[BOUND] === true) return server;
      if (typeof hook._wrapHandler !== 'function') throw new Error('requestState.bind: this SDK version has no Server._wrapHandler hook');
      for (const method of MULTI_ROUND_TRIP_METHODS) {
        try {
          engine.assertCanSetRequestHandler(method);
        } catch {
          // Already registered (an McpServer built with tools/prompts/resources capabilities
          // installs its handlers at once): the stored, already wrapped handler is wrapped again
          // so its contexts carry their request too.
          const handlers = hook._requestHandlers;
          const stored = handlers?.get(method);
          if (handlers === undefined || stored === undefined) {
            throw new Error(`requestState.bind(server) must run before ${method} is handled: call it right after new McpServer(...), before registering tools, prompts or resources`);
          }
          handlers.set(method, (request, ctx) => {
            (ctx as CarryingContext)[REQUEST] = request;
            return stored(request, ctx);
          });
        }
      }
      const wrap = hook._wrapHandler.bind(engine);
      hook._wrapHandler = (method, handler) => {
        const wrapped = wrap(method, handler);
        if (!MULTI_ROUND_TRIP_METHODS.has(method)) return wrapped;
        return (request, ctx) => {
          // A fresh context per request (the SDK builds one each time); the legacy shim's
          // per-round contexts are spread from it, so they carry the request too.
          (ctx as CarryingContext)[REQUEST] = request;
          return wrapped(request, ctx);
        };
      };
      hook[BOUND] = true;
      return server;
    },
  };
}

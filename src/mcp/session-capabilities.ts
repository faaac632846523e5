/**
 * @module mcp/session-capabilities
 * The client capabilities behind each request, for an engine that serves many clients. The SDK
 * keeps the capabilities a 2025-era client declared at `initialize` as instance state, so on an
 * engine shared by every session (the built-in server, `shareServer`) they are those of whichever
 * client initialized last. MCP forbids sending an input request of a kind the client did not
 * declare (2026-07-28 basic/patterns/mrtr, server requirement 7; 2025-11-25 client features), so
 * this book records each session's declaration and answers per request: the session's on a
 * 2025 session, the request's own `_meta` envelope on a modern (sessionless) request.
 *
 * {@link SessionCapabilities.attach} also points the SDK's legacy input-required shim at it, so
 * the shim's own gate asks about the requesting session rather than the last one initialized.
 * That gate (`Server._inputRequestCapabilityView`) is private SDK API (2.4; a test checks it is
 * still there).
 */

import { CLIENT_CAPABILITIES_META_KEY, type ClientCapabilities, type InitializeResult, type McpServer, type ServerContext } from '@modelcontextprotocol/server';

type Handler = (request: { params?: Record<string, unknown> }, ctx: ServerContext) => Promise<unknown>;
interface EngineInternals {
  _getRequestHandler(method: string): Handler | undefined;
  _inputRequestCapabilityView?: (ctx: ServerContext) => ClientCapabilities | undefined;
}

/**
 * Per-session client capabilities of one replica, bounded (oldest first out).
 *
 * @example
 * const book = new SessionCapabilities({ max: config.sessions.max });
 * book.attach(server);           // right after building a shared engine
 * book.of(ctx)?.elicitation;     // in a handler: may this request's client be asked?
 * book.forget(sessionId);        // when the session closes
 */
export class SessionCapabilities {
  readonly #bySession = new Map<string, ClientCapabilities>();
  readonly #max: number;

  constructor(options: { readonly max: number }) {
    this.#max = Math.max(1, options.max);
  }

  /** Records what the client of `sessionId` declared (a later initialize of the same id replaces it). */
  record(sessionId: string, capabilities: ClientCapabilities | undefined): void {
    this.#bySession.delete(sessionId);
    if (capabilities === undefined) return;
    if (this.#bySession.size >= this.#max) {
      const oldest = this.#bySession.keys().next().value;
      if (oldest !== undefined) this.#bySession.delete(oldest);
    }
    this.#bySession.set(sessionId, capabilities);
  }

  forget(sessionId: string): void {
    this.#bySession.delete(sessionId);
  }

  get size(): number {
    return this.#bySession.size;
  }

  /**
   * The capabilities of the client behind `ctx`: its session's (2025 era) or its envelope's
   * (a request without a session); undefined when unknown, which callers treat as "declared nothing".
   */
  of(ctx: ServerContext): ClientCapabilities | undefined {
    if (ctx.sessionId !== undefined) return this.#bySession.get(ctx.sessionId);
    // The SDK's published type of the envelope is `{}`; its keys are the `*_META_KEY` constants.
    const declared = (ctx.mcpReq.envelope as Readonly<Record<string, unknown>> | undefined)?.[CLIENT_CAPABILITIES_META_KEY];
    return typeof declared === 'object' && declared !== null ? (declared as ClientCapabilities) : undefined;
  }

  /**
   * Makes `server` record each session's `initialize` here and gate the legacy shim's input
   * requests on the requesting session's capabilities.
   */
  attach(server: McpServer): void {
    const engine = server.server;
    const internals = engine as unknown as EngineInternals;
    const initialize = internals._getRequestHandler('initialize');
    if (initialize === undefined || typeof internals._inputRequestCapabilityView !== 'function') {
      throw new Error('SessionCapabilities.attach: this SDK version has no initialize handler or input-request capability gate to attach to');
    }
    engine.setRequestHandler('initialize', (request, ctx) => {
      if (ctx.sessionId !== undefined) this.record(ctx.sessionId, request.params.capabilities);
      return initialize(request, ctx) as Promise<InitializeResult>;
    });
    internals._inputRequestCapabilityView = (ctx) => this.of(ctx);
  }
}

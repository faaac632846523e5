/**
 * @module mcp/transport/types
 * The seam between the MCP transport and HTTP. The transport never imports `node:http`: it
 * sees a request as {@link McpHttpRequest} and writes streams to an {@link HttpSink}, which a
 * Node `ServerResponse` satisfies structurally (so the HTTP layer passes `reply.raw` as is).
 */

import type { AuthInfo } from '@modelcontextprotocol/server';
import { WardenError, type WardenErrorCode } from '../../errors.js';
import type { Principal } from '../../security/identity.js';

/** What the transport needs of an HTTP response to stream Server-Sent Events into it. */
export interface HttpSink {
  write(chunk: string): boolean;
  end(chunk?: string): unknown;
  on(event: 'close', listener: () => void): unknown;
  readonly writableLength: number;
  readonly writableEnded: boolean;
  /** True once the connection is gone (a Node `ServerResponse` has it); it will never emit 'close' again. */
  readonly destroyed?: boolean;
  destroy(): unknown;
}

/** An HTTP request to the MCP endpoint, reduced to what the transport reads. */
export interface McpHttpRequest {
  readonly method: string;
  /** `Mcp-Session-Id` header. */
  readonly sessionId: string | undefined;
  /** `MCP-Protocol-Version` header. */
  readonly protocolVersion: string | undefined;
  readonly accept: string | undefined;
  readonly contentType: string | undefined;
  readonly lastEventId: string | undefined;
  /** Parsed JSON body of a POST (undefined when there was none). */
  readonly body: unknown;
  /** The authenticated caller. Sessions are bound to it. */
  readonly principal: Principal;
  /** The client address (after trusted-proxy resolution). */
  readonly clientIp: string;
  /** Passed to SDK request handlers as `ctx.http.authInfo`; never holds the secret. */
  readonly authInfo: AuthInfo | undefined;
  /** All request headers (Node's lower-case names): the modern era checks `Mcp-Name`, `Mcp-Param-*`. */
  readonly headers: Readonly<Record<string, string | readonly string[] | undefined>>;
  /**
   * Registers a listener for the client closing the connection before the answer was written
   * (modern requests: cancellation). Absent when the caller cannot tell.
   */
  readonly onClose?: ((listener: () => void) => void) | undefined;
}

/** How the HTTP layer must answer. */
export type McpHttpResponse =
  | { readonly kind: 'body'; readonly status: number; readonly headers: Readonly<Record<string, string>>; readonly body: string | undefined }
  | {
      readonly kind: 'stream';
      readonly status: number;
      readonly headers: Readonly<Record<string, string>>;
      /** Hands the response to the stream; called once, right after the head is written. */
      attach(sink: HttpSink): void;
    }
  | { readonly kind: 'error'; readonly error: WardenError };

export const SSE_HEADERS: Readonly<Record<string, string>> = Object.freeze({
  'content-type': 'text/event-stream',
  'cache-control': 'no-cache, no-transform',
  connection: 'keep-alive',
  // Tells nginx-style proxies not to buffer the stream.
  'x-accel-buffering': 'no',
});

/** An error answer: the HTTP layer renders the code's status and JSON-RPC error. */
export function fail(code: WardenErrorCode, reason?: string, headers?: Record<string, string>): McpHttpResponse {
  return { kind: 'error', error: new WardenError(code, { reason, headers }) };
}

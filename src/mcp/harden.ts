/**
 * @module mcp/harden
 * Keeps what a tool handler throws away from the client. The SDK's `McpServer` turns a thrown
 * error into a tool result whose text is the error's message, which can carry file paths or
 * library internals ("ENOENT: no such file or directory, open '/srv/…'"). The server's
 * `createToolError` is replaced so such messages become a fixed text, with the original kept
 * for the log. The SDK's own argument and lookup errors pass through to {@link DefaultPolicy},
 * which rewrites them with the tool name.
 */

import type { ServerLike } from './sessions.js';

/** The text a client sees when a tool handler throws. */
export const TOOL_FAILED_TEXT = 'The tool failed; the server logged the reason';

// The SDK's own argument and output-schema messages (v2: "Input validation error: ...",
// "Output validation error: ...", the element cap "Invalid arguments for tool x: arguments contain ...").
const SDK_MESSAGES = /^(MCP error -3260[12]: |Input validation error: |Output validation error: |Invalid arguments for tool \S+: arguments contain more than |Tool .+ (not found|disabled)$)/;

interface ToolErrorFactory {
  createToolError?: (message: string) => unknown;
}

/** Replaces the server's tool-error factory (when it has one); `onThrown` receives the original message. */
export function hardenToolErrors(server: ServerLike, onThrown: (message: string) => void): ServerLike {
  const target = server as ServerLike & ToolErrorFactory;
  const original = target.createToolError;
  if (typeof original !== 'function') return server;
  target.createToolError = (message: string) => {
    if (SDK_MESSAGES.test(message)) return original.call(server, message);
    onThrown(message);
    return { content: [{ type: 'text', text: TOOL_FAILED_TEXT }], isError: true };
  };
  return server;
}

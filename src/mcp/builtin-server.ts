/**
 * @module mcp/builtin-server
 * The MCP server mcp-warden serves when no custom one is given: the built-in tools, a
 * redacted status resource, a tool-description resource template with completion, a
 * security-review prompt with a completable argument, and the logging capability.
 * {@link BUILTIN_ACCESS} says which of them are operator data. Its `requestState` is checked by
 * the context's codec (`mcp/request-state-hook`), and the client capabilities its tools see are
 * per session even though one instance serves every session (`mcp/session-capabilities`).
 */

import { McpServer, ResourceTemplate } from '@modelcontextprotocol/server';
import { completable } from '@modelcontextprotocol/server';
import { z } from 'zod';
import { VERSION } from '../version.js';
import { accessRules, type AccessRules } from './access.js';
import { BUILTIN_TOOL_NAMES, registerBuiltinTools } from './tools/builtin-tools.js';
import type { BuiltinContext } from './tools/context.js';

export const STATUS_RESOURCE_URI = 'warden://server/status';
const TOOL_GUIDE_PREFIX = 'warden://tools/';
const REVIEW_PROMPT = 'security_review';
const REVIEW_FOCUS = ['all', 'authentication', 'rate-limiting', 'cors', 'logging', 'sessions'] as const;

const TOOL_SUMMARIES: Readonly<Record<string, string>> = {
  calculate: 'Evaluates arithmetic expressions with a real parser (no eval).',
  system_info: 'Non-identifying facts about the host.',
  server_status: 'Counters and memory of this server.',
  echo: 'Returns its input.',
  current_time: 'Current time in an IANA time zone.',
  hash_text: 'SHA-2 digests of text.',
  confirm_action: 'Asks the user to confirm a delete or rotate (and changes nothing): multi round-trip requests with a signed requestState.',
};

/**
 * Operator data in the built-in server: the `server_status` tool, the status resource and the
 * security-review prompt (built on that resource). Tool guides follow the tool scopes.
 */
export const BUILTIN_ACCESS: AccessRules = Object.freeze({
  ...accessRules({ tools: ['server_status'], resourcePrefixes: ['warden://server/'], prompts: [REVIEW_PROMPT] }),
  toolResources: Object.freeze({ prefix: TOOL_GUIDE_PREFIX, template: `${TOOL_GUIDE_PREFIX}{name}`, argument: 'name' }),
});

/**
 * Builds a new built-in server (one per session).
 *
 * @example
 * const server = createBuiltinServer({ status: () => snapshot, configSummary: () => ({}) });
 */
export function createBuiltinServer(context: BuiltinContext): McpServer {
  const server = new McpServer(
    { name: 'mcp-warden', version: VERSION, title: 'mcp-warden' },
    {
      capabilities: { logging: {} },
      // No tool names here: every credential reads these, and tools/list shows what each may use.
      instructions: 'A secured MCP server. tools/list shows the tools this credential may use.',
      requestState: { verify: context.requestState.verify },
    },
  );
  // Before any registration: bind() wraps handlers as they are registered.
  context.requestState.bind(server);
  context.capabilities.attach(server);

  registerBuiltinTools(server, context);

  server.registerResource(
    'server-status',
    STATUS_RESOURCE_URI,
    { title: 'Server status', description: 'Counters and a configuration summary, with no secrets', mimeType: 'application/json' },
    (uri) => ({
      contents: [{ uri: uri.href, mimeType: 'application/json', text: JSON.stringify({ status: context.status(), config: context.configSummary() }, null, 2) }],
    }),
  );

  server.registerResource(
    'tool-guide',
    new ResourceTemplate(`${TOOL_GUIDE_PREFIX}{name}`, {
      list: () => ({
        resources: BUILTIN_TOOL_NAMES.map((name) => ({ uri: `${TOOL_GUIDE_PREFIX}${name}`, name, mimeType: 'text/plain' })),
      }),
      complete: { name: (value) => BUILTIN_TOOL_NAMES.filter((name) => name.startsWith(value)) },
    }),
    { title: 'Tool guide', description: 'A short description of each built-in tool', mimeType: 'text/plain' },
    (uri, variables) => {
      const name = String(variables['name']);
      const summary = TOOL_SUMMARIES[name];
      if (summary === undefined) return { contents: [] };
      return { contents: [{ uri: uri.href, mimeType: 'text/plain', text: `${name}: ${summary}` }] };
    },
  );

  server.registerPrompt(
    REVIEW_PROMPT,
    {
      title: 'Security review',
      description: 'Asks the model to review this server\u2019s security posture from its status resource.',
      argsSchema: {
        focus: completable(z.string().describe(`Area to focus on: ${REVIEW_FOCUS.join(', ')}`), (value) =>
          REVIEW_FOCUS.filter((focus) => focus.startsWith(value ?? '')),
        ),
      },
    },
    ({ focus }) => ({
      messages: [
        {
          role: 'user',
          content: {
            type: 'text',
            text:
              `Review the security posture of this MCP server, focusing on ${REVIEW_FOCUS.includes(focus as (typeof REVIEW_FOCUS)[number]) ? focus : 'all'} areas. ` +
              `Read the resource ${STATUS_RESOURCE_URI} and report risks with concrete recommendations.`,
          },
        },
      ],
    }),
  );

  return server;
}

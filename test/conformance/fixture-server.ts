/**
 * The conformance suite's reference fixture ("everything server"), ported to an SDK v2 `McpServer`
 * factory so mcp-warden can serve it through its library API (`createServer({ mcpServer })`) and
 * the official suite (`@modelcontextprotocol/conformance`) can run its server scenarios against it.
 *
 * Source: modelcontextprotocol/conformance `examples/servers/typescript/everything-server.ts` at
 * c321dd3 (the commit of the alpha.11 release; the suite run here is alpha.12). That file is an
 * SDK v1 server plus ~1,000 lines of hand-written 2026-07-28 handling (header checks, `_meta`
 * checks, MRTR answers, listen streams) in its Express route. Here the SDK v2 engine and the server in front (mcp-warden, or the SDK's
 * own `createMcpHandler` for the reference run) do that part; this module only registers what the
 * scenarios call, with the fixture's exact texts, payloads, input-request keys and cache hints.
 *
 * Where the port differs from the fixture, and why:
 * - Every `requestState` is sealed by one codec (the fixture leaves some as plain JSON): with
 *   `ServerOptions.requestState.verify` set, the SDK verifies every echoed state before the
 *   handler runs, and the spec says state must be integrity-protected anyway. The payloads are
 *   the fixture's (`{kind:'request-state', nonce}`, `{round:1, nonce}`, ...).
 * - `test_missing_capability`, called without the `sampling` capability, asks for a sampling input
 *   so that the SDK's input-required seam answers the -32021 the fixture writes by hand (an
 *   error thrown from a tool handler becomes an `isError` result in SDK v2).
 * - Progress is sent only when the client sent a progress token (the spec forbids progress
 *   without one; the fixture uses token 0, and `test_streaming_elicitation` sends a fixed
 *   `token-abc` with a non-schema `value` field).
 * - `test_trigger_tool_change` / `test_trigger_prompt_change` publish through `notify` (the
 *   fixture writes to its own listen streams); the server in front owns `subscriptions/listen`.
 * - `test_custom_headers` is ours: the pending `http-custom-header-server-validation` scenario
 *   needs a tool with an `x-mcp-header` string property, which the fixture does not have. Its
 *   schema is the first three properties of the suite's own `test_custom_headers` (client leg).
 * - `test_reconnection` cannot close its SSE stream from inside a handler here (that needs the
 *   fixture's session transport); it answers with the fixture's text after the same 100 ms.
 * - The fixture's `tools/list` override (to publish a raw JSON Schema) is not needed:
 *   `fromJsonSchema` keeps `json_schema_2020_12_tool`'s 2020-12 keywords as written.
 */

import { randomUUID } from 'node:crypto';
import {
  CLIENT_CAPABILITIES_META_KEY,
  McpServer,
  ResourceTemplate,
  createRequestStateCodec,
  fromJsonSchema,
  inputRequired,
  type CallToolResult,
  type ClientCapabilities,
  type GetPromptResult,
  type InputRequest,
  type InputRequiredResult,
  type ServerContext,
} from '@modelcontextprotocol/server';
import { z } from 'zod';

/** Seals and verifies `requestState` (the SDK codec's shape; mcp-warden's codec fits it too). */
export interface StateCodec {
  mint(payload: Record<string, unknown>, ctx?: ServerContext): Promise<string>;
  verify(state: string, ctx: ServerContext): Promise<unknown>;
}

/** Publishes list changes to `subscriptions/listen` streams (the SDK's `ServerNotifier` shape). */
export interface ListNotifier {
  toolsChanged(): void;
  promptsChanged(): void;
}

export interface FixtureOptions {
  /** Defaults to an SDK `createRequestStateCodec` with a random per-process key. */
  readonly requestState?: StateCodec;
  /** mcp-warden's codec needs the server bound before registration (`warden` tools' `bind`). */
  readonly bind?: (server: McpServer) => void;
  /**
   * Where the trigger tools publish. Defaults to the server's own `sendToolListChanged()` /
   * `sendPromptListChanged()` (what a long-lived engine forwards to its listen streams).
   */
  readonly notify?: ListNotifier;
}

// Sample base64 encoded 1x1 red PNG pixel (the fixture's TEST_IMAGE_BASE64).
export const TEST_IMAGE_BASE64 = 'iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8DwHwAFBQIAX8jx0gAAAABJRU5ErkJggg==';
// Sample base64 encoded minimal WAV file (the fixture's TEST_AUDIO_BASE64).
export const TEST_AUDIO_BASE64 = 'UklGRiYAAABXQVZFZm10IBAAAAABAAEAQB8AAAB9AAACABAAZGF0YQIAAAA=';

const WATCHED_RESOURCE_CONTENT = 'Watched resource content';

// SEP-1613 / SEP-2106: the fixture's raw JSON Schema 2020-12 definition, kept verbatim.
const JSON_SCHEMA_2020_12_INPUT_SCHEMA = {
  $schema: 'https://json-schema.org/draft/2020-12/schema',
  type: 'object' as const,
  $defs: {
    address: {
      $anchor: 'addressDef',
      type: 'object',
      properties: { street: { type: 'string' }, city: { type: 'string' } },
    },
  },
  properties: {
    name: { type: 'string' },
    address: { $ref: '#/$defs/address' },
    contactMethod: { type: 'string', enum: ['phone', 'email'] },
    phone: { type: 'string' },
    email: { type: 'string' },
  },
  allOf: [{ anyOf: [{ required: ['phone'] }, { required: ['email'] }] }],
  if: { properties: { contactMethod: { const: 'phone' } }, required: ['contactMethod'] },
  then: { required: ['phone'] },
  else: { required: ['email'] },
  additionalProperties: false,
};

// SEP-2243: the first three properties of the suite's own `test_custom_headers` tool.
const CUSTOM_HEADERS_INPUT_SCHEMA = {
  type: 'object' as const,
  properties: {
    region: { type: 'string', description: 'Plain ASCII string value', 'x-mcp-header': 'Region' },
    priority: { type: 'integer', description: 'Integer numeric value', 'x-mcp-header': 'Priority' },
    verbose: { type: 'boolean', description: 'Boolean value', 'x-mcp-header': 'Verbose' },
  },
};

// SEP-2549: the fixture's cache hints (lists public for 5 minutes, reads private for 5 minutes).
const LIST_HINT = { ttlMs: 300_000, cacheScope: 'public' } as const;
const CACHE_HINTS = {
  'tools/list': LIST_HINT,
  'prompts/list': LIST_HINT,
  'resources/list': LIST_HINT,
  'resources/templates/list': LIST_HINT,
  'resources/read': { ttlMs: 300_000, cacheScope: 'private' },
} as const;

const EMPTY = z.object({});

type ToolAnswer = Promise<CallToolResult | InputRequiredResult>;
type Responses = Record<string, unknown> | undefined;

function text(value: string): CallToolResult {
  return { content: [{ type: 'text', text: value }] };
}

/** The fixture's `getMrtInputText`: a string field of an elicitation response's content. */
function inputText(response: unknown, field: string): string {
  const content = (response as Record<string, unknown> | undefined)?.content as Record<string, unknown> | undefined;
  const value = content?.[field];
  return typeof value === 'string' ? value : 'unknown';
}

function elicit(message: string, field: string, type: 'string' | 'boolean'): InputRequest {
  return {
    method: 'elicitation/create',
    params: { message, requestedSchema: { type: 'object', properties: { [field]: { type } }, required: [field] } },
  } as InputRequest;
}

function sample(prompt: string, maxTokens: number): InputRequest {
  return {
    method: 'sampling/createMessage',
    params: { messages: [{ role: 'user', content: { type: 'text', text: prompt } }], maxTokens },
  } as InputRequest;
}

const LIST_ROOTS = { method: 'roots/list', params: {} } as InputRequest;

/** The request's `_meta` client capabilities (the SDK's envelope type is opaque in 2.4.0). */
function declaredCapabilities(ctx: ServerContext): ClientCapabilities | undefined {
  return (ctx.mcpReq.envelope as Record<string, unknown> | undefined)?.[CLIENT_CAPABILITIES_META_KEY] as ClientCapabilities | undefined;
}

/** A state the seam verified (an object), or undefined for none or a raw string. */
function verifiedState(ctx: ServerContext): Record<string, unknown> | undefined {
  const state = ctx.mcpReq.requestState<unknown>();
  return state !== null && typeof state === 'object' ? (state as Record<string, unknown>) : undefined;
}

/**
 * Builds one fixture server. Pass it (wrapped) as mcp-warden's `mcpServer` factory or as the
 * SDK's `createMcpHandler` factory; every call returns a new `McpServer` sharing `options`.
 *
 * @example
 * const codec = createRequestStateCodec({ key: randomBytes(32) });
 * const warden = await createServer({ mcpServer: () => conformanceServer({ requestState: codec }) });
 */
export function conformanceServer(options: FixtureOptions = {}): McpServer {
  const codec = options.requestState ?? defaultCodec();
  const server = new McpServer(
    { name: 'mcp-conformance-test-server', version: '1.0.0' },
    {
      capabilities: {
        tools: { listChanged: true },
        resources: { subscribe: true, listChanged: true },
        prompts: { listChanged: true },
        logging: {},
        completions: {},
      },
      cacheHints: CACHE_HINTS,
      requestState: { verify: (state, ctx) => codec.verify(state, ctx) },
    },
  );
  options.bind?.(server);
  const notify: ListNotifier = options.notify ?? {
    toolsChanged: () => server.sendToolListChanged(),
    promptsChanged: () => server.sendPromptListChanged(),
  };
  const mint = (payload: Record<string, unknown>, ctx: ServerContext): Promise<string> => codec.mint(payload, ctx);

  registerContentTools(server);
  registerBehaviourTools(server);
  registerLegacyRequestTools(server);
  registerDiagnosticTools(server, notify);
  registerInputRequiredTools(server, mint);
  registerResources(server);
  registerPrompts(server);
  registerProtocolHandlers(server);
  return server;
}

let processCodec: StateCodec | undefined;
function defaultCodec(): StateCodec {
  processCodec ??= createRequestStateCodec<Record<string, unknown>>({ key: crypto.getRandomValues(new Uint8Array(32)) });
  return processCodec;
}

function registerContentTools(server: McpServer): void {
  server.registerTool('test_simple_text', { description: 'Tests simple text content response' }, async () =>
    text('This is a simple text response for testing.'),
  );
  server.registerTool('test_image_content', { description: 'Tests image content response' }, async () => ({
    content: [{ type: 'image', data: TEST_IMAGE_BASE64, mimeType: 'image/png' }],
  }));
  server.registerTool('test_audio_content', { description: 'Tests audio content response' }, async () => ({
    content: [{ type: 'audio', data: TEST_AUDIO_BASE64, mimeType: 'audio/wav' }],
  }));
  server.registerTool('test_embedded_resource', { description: 'Tests embedded resource content response' }, async () => ({
    content: [
      { type: 'resource', resource: { uri: 'test://embedded-resource', mimeType: 'text/plain', text: 'This is an embedded resource content.' } },
    ],
  }));
  server.registerTool('test_multiple_content_types', { description: 'Tests response with multiple content types (text, image, resource)' }, async () => ({
    content: [
      { type: 'text', text: 'Multiple content types test:' },
      { type: 'image', data: TEST_IMAGE_BASE64, mimeType: 'image/png' },
      {
        type: 'resource',
        resource: { uri: 'test://mixed-content-resource', mimeType: 'application/json', text: JSON.stringify({ test: 'data', value: 123 }) },
      },
    ],
  }));
}

function registerBehaviourTools(server: McpServer): void {
  server.registerTool(
    'test_tool_with_logging',
    { description: 'Tests tool that emits log messages during execution', inputSchema: EMPTY },
    async (_args, ctx) => {
      for (const [index, data] of ['Tool execution started', 'Tool processing data', 'Tool execution completed'].entries()) {
        if (index > 0) await pause(50);
        await ctx.mcpReq.notify({ method: 'notifications/message', params: { level: 'info', data } });
      }
      return text('Tool with logging executed successfully');
    },
  );

  server.registerTool(
    'test_tool_with_progress',
    { description: 'Tests tool that reports progress notifications', inputSchema: EMPTY },
    async (_args, ctx) => {
      const progressToken = ctx.mcpReq._meta?.progressToken;
      if (progressToken !== undefined) {
        for (const progress of [0, 50, 100]) {
          if (progress > 0) await pause(50);
          await ctx.mcpReq.notify({
            method: 'notifications/progress',
            params: { progressToken, progress, total: 100, message: `Completed step ${progress} of ${100}` },
          });
        }
      }
      return text(String(progressToken ?? 0));
    },
  );

  server.registerTool('test_error_handling', { description: 'Tests error response handling' }, async () => {
    throw new Error('This tool intentionally returns an error for testing');
  });

  server.registerTool(
    'json_schema_2020_12_tool',
    {
      description: 'Tool with JSON Schema 2020-12 features for conformance testing (SEP-1613)',
      inputSchema: fromJsonSchema<Record<string, unknown>>(JSON_SCHEMA_2020_12_INPUT_SCHEMA),
    },
    async (args) => text(`JSON Schema 2020-12 tool called with: ${JSON.stringify(args)}`),
  );

  server.registerTool(
    'test_custom_headers',
    {
      description: 'A tool with x-mcp-header annotations to test custom header mirroring and encoding',
      inputSchema: fromJsonSchema<{ region?: string; priority?: number; verbose?: boolean }>(CUSTOM_HEADERS_INPUT_SCHEMA),
    },
    async (args) => text(`Custom headers tool called with: ${JSON.stringify(args)}`),
  );
}

/** 2025-era tools that send real requests to the client (sampling, elicitation) or reconnect. */
function registerLegacyRequestTools(server: McpServer): void {
  server.registerTool(
    'test_reconnection',
    {
      description:
        'Tests SSE stream disconnection and client reconnection (SEP-1699). Server will close the stream mid-call and send the result after client reconnects.',
      inputSchema: EMPTY,
    },
    async () => {
      await pause(100);
      return text(
        'Reconnection test completed successfully. If you received this, the client properly reconnected after stream closure.',
      );
    },
  );

  server.registerTool(
    'test_sampling',
    {
      description: 'Tests server-initiated sampling (LLM completion request)',
      inputSchema: z.object({ prompt: z.string().describe('The prompt to send to the LLM') }),
    },
    async ({ prompt }, ctx) => {
      try {
        const result = (await ctx.mcpReq.send({
          method: 'sampling/createMessage',
          params: { messages: [{ role: 'user', content: { type: 'text', text: prompt } }], maxTokens: 100 },
        })) as { content?: { text?: string }; message?: { content?: { text?: string } } };
        return text(`LLM response: ${result.content?.text || result.message?.content?.text || 'No response'}`);
      } catch (error) {
        return text(`Sampling not supported or error: ${errorMessage(error)}`);
      }
    },
  );

  server.registerTool(
    'test_elicitation',
    {
      description: 'Tests server-initiated elicitation (user input request)',
      inputSchema: z.object({ message: z.string().describe('The message to show the user') }),
    },
    async ({ message }, ctx) =>
      elicitVia(ctx, 'User response', {
        message,
        requestedSchema: {
          type: 'object',
          properties: { response: { type: 'string', description: "User's response" } },
          required: ['response'],
        },
      }),
  );

  server.registerTool(
    'test_elicitation_sep1034_defaults',
    { description: 'Tests elicitation with default values per SEP-1034', inputSchema: EMPTY },
    async (_args, ctx) =>
      elicitVia(ctx, 'Elicitation completed', {
        message: 'Please review and update the form fields with defaults',
        requestedSchema: {
          type: 'object',
          properties: {
            name: { type: 'string', description: 'User name', default: 'John Doe' },
            age: { type: 'integer', description: 'User age', default: 30 },
            score: { type: 'number', description: 'User score', default: 95.5 },
            status: { type: 'string', description: 'User status', enum: ['active', 'inactive', 'pending'], default: 'active' },
            verified: { type: 'boolean', description: 'Verification status', default: true },
          },
          required: [],
        },
      }),
  );

  server.registerTool(
    'test_elicitation_sep1330_enums',
    { description: 'Tests elicitation with enum schema improvements per SEP-1330', inputSchema: EMPTY },
    async (_args, ctx) =>
      elicitVia(ctx, 'Elicitation completed', {
        message: 'Please select options from the enum fields',
        requestedSchema: {
          type: 'object',
          properties: {
            untitledSingle: { type: 'string', description: 'Select one option', enum: ['option1', 'option2', 'option3'] },
            titledSingle: {
              type: 'string',
              description: 'Select one option with titles',
              oneOf: [
                { const: 'value1', title: 'First Option' },
                { const: 'value2', title: 'Second Option' },
                { const: 'value3', title: 'Third Option' },
              ],
            },
            legacyEnum: {
              type: 'string',
              description: 'Select one option (legacy)',
              enum: ['opt1', 'opt2', 'opt3'],
              enumNames: ['Option One', 'Option Two', 'Option Three'],
            },
            untitledMulti: {
              type: 'array',
              description: 'Select multiple options',
              minItems: 1,
              maxItems: 3,
              items: { type: 'string', enum: ['option1', 'option2', 'option3'] },
            },
            titledMulti: {
              type: 'array',
              description: 'Select multiple options with titles',
              minItems: 1,
              maxItems: 3,
              items: {
                anyOf: [
                  { const: 'value1', title: 'First Choice' },
                  { const: 'value2', title: 'Second Choice' },
                  { const: 'value3', title: 'Third Choice' },
                ],
              },
            },
          },
          required: [],
        },
      }),
  );
}

async function elicitVia(ctx: ServerContext, label: string, params: Record<string, unknown>): Promise<CallToolResult> {
  try {
    const result = (await ctx.mcpReq.send({ method: 'elicitation/create', params } as never)) as { action?: string; content?: unknown };
    return text(`${label}: action=${result.action}, content=${JSON.stringify(result.content || {})}`);
  } catch (error) {
    return text(`Elicitation not supported or error: ${errorMessage(error)}`);
  }
}

/** The `server-stateless` scenario's diagnostic tools (the fixture serves them on its 2026 path). */
function registerDiagnosticTools(server: McpServer, notify: ListNotifier): void {
  server.registerTool('test_missing_capability', { description: 'Test tool requiring sampling', inputSchema: EMPTY }, async (_args, ctx) => {
    if (declaredCapabilities(ctx)?.sampling) return text('Success');
    // Asking for an undeclared kind makes the SDK's seam answer -32021 with
    // data.requiredCapabilities {sampling:{}} (a thrown error would become an isError result).
    return inputRequired({ inputRequests: { sampling_check: sample('Reply with the single word: pong', 16) } });
  });

  server.registerTool(
    'test_streaming_elicitation',
    { description: 'Diagnostic tool validating response progress streams', inputSchema: EMPTY },
    async (_args, ctx) => {
      const progressToken = ctx.mcpReq._meta?.progressToken;
      if (progressToken !== undefined) {
        await ctx.mcpReq.notify({ method: 'notifications/progress', params: { progressToken, progress: 50, total: 100 } });
      }
      return text('Streaming complete');
    },
  );

  server.registerTool('test_logging_tool', { description: 'Diagnostic logging validator tool', inputSchema: EMPTY }, async (_args, ctx) => {
    // The engine drops this unless the request's _meta carries a logLevel (2026-07-28).
    await ctx.mcpReq.log('info', 'Diagnostic trace logging activated');
    return text('Logging evaluated');
  });

  server.registerTool('test_trigger_tool_change', { description: 'Diagnostic hook: announces a tools list change', inputSchema: EMPTY }, async () => {
    notify.toolsChanged();
    return text('Mutation triggered');
  });

  server.registerTool('test_trigger_prompt_change', { description: 'Diagnostic hook: announces a prompts list change', inputSchema: EMPTY }, async () => {
    notify.promptsChanged();
    return text('Mutation triggered');
  });
}

/** SEP-2322 multi round-trip tools and their answers, as the fixture's 2026 path writes them. */
function registerInputRequiredTools(server: McpServer, mint: (payload: Record<string, unknown>, ctx: ServerContext) => Promise<string>): void {
  const tool = (name: string, description: string, handler: (responses: Responses, ctx: ServerContext) => ToolAnswer): void => {
    server.registerTool(name, { description, inputSchema: EMPTY }, async (_args, ctx) => handler(ctx.mcpReq.inputResponses as Responses, ctx));
  };

  tool('test_input_required_result_elicitation', 'MRTR: returns InputRequiredResult with elicitation request', async (responses) => {
    if (responses?.['user_name']) return text(`Hello, ${inputText(responses['user_name'], 'name')}!`);
    return inputRequired({ inputRequests: { user_name: elicit('What is your name?', 'name', 'string') } });
  });

  tool('test_input_required_result_sampling', 'MRTR: returns InputRequiredResult with sampling request', async (responses) => {
    const answer = responses?.['sample_request'] as { content?: { text?: unknown } } | undefined;
    if (answer) return text(`Sampling result: ${typeof answer.content?.text === 'string' ? answer.content.text : 'no response'}`);
    return inputRequired({ inputRequests: { sample_request: sample('What is the capital of France?', 100) } });
  });

  tool('test_input_required_result_list_roots', 'MRTR: returns InputRequiredResult with roots/list request', async (responses) => {
    const answer = responses?.['roots_request'] as { roots?: unknown } | undefined;
    if (answer) return text(`Found ${Array.isArray(answer.roots) ? answer.roots.length : 0} root(s)`);
    return inputRequired({ inputRequests: { roots_request: LIST_ROOTS } });
  });

  tool('test_input_required_result_request_state', 'MRTR: returns InputRequiredResult with requestState', async (responses, ctx) => {
    const state = verifiedState(ctx);
    const ok = (responses?.['confirm'] as { content?: { ok?: unknown } } | undefined)?.content?.ok;
    if (state?.kind === 'request-state' && ok === true) return text('state-ok: requestState validated');
    return inputRequired({
      inputRequests: { confirm: elicit('Please confirm', 'ok', 'boolean') },
      requestState: await mint({ kind: 'request-state', nonce: randomUUID() }, ctx),
    });
  });

  tool('test_input_required_result_multiple_inputs', 'MRTR: returns InputRequiredResult with multiple input requests', async (responses, ctx) => {
    const state = verifiedState(ctx);
    if (state?.kind === 'multiple-inputs' && responses?.['user_name'] && responses['greeting'] && responses['client_roots']) {
      const greeting = (responses['greeting'] as { content?: { text?: unknown } }).content?.text;
      const roots = (responses['client_roots'] as { roots?: unknown }).roots;
      return text(
        `Name: ${inputText(responses['user_name'], 'name')}; Greeting: ${typeof greeting === 'string' ? greeting : 'Hello there!'}; Roots: ${Array.isArray(roots) ? roots.length : 0}`,
      );
    }
    return inputRequired({
      inputRequests: {
        user_name: elicit('What is your name?', 'name', 'string'),
        greeting: sample('Generate a greeting', 50),
        client_roots: LIST_ROOTS,
      },
      requestState: await mint({ kind: 'multiple-inputs', nonce: randomUUID() }, ctx),
    });
  });

  tool('test_input_required_result_multi_round', 'MRTR: multi-round InputRequiredResult workflow', async (responses, ctx) => {
    const state = verifiedState(ctx);
    if (state?.round === 1 && responses?.['step1']) {
      return inputRequired({
        inputRequests: { step2: elicit('Step 2: What is your favorite color?', 'color', 'string') },
        requestState: await mint({ round: 2, name: inputText(responses['step1'], 'name'), nonce: randomUUID() }, ctx),
      });
    }
    if (state?.round === 2 && responses?.['step2']) {
      const name = typeof state.name === 'string' ? state.name : 'friend';
      return text(`Multi-round complete for ${name} who likes ${inputText(responses['step2'], 'color')}`);
    }
    return inputRequired({
      inputRequests: { step1: elicit('Step 1: What is your name?', 'name', 'string') },
      requestState: await mint({ round: 1, nonce: randomUUID() }, ctx),
    });
  });

  // A tampered state never reaches this handler: the seam's verify answers -32602 first.
  tool('test_input_required_result_tampered_state', 'MRTR: HMAC-signed requestState integrity test', async (responses, ctx) => {
    if (verifiedState(ctx)?.kind === 'tamper-test' && responses?.['confirm']) return text('integrity-ok: state verified');
    return inputRequired({
      inputRequests: { confirm: elicit('Please confirm', 'ok', 'boolean') },
      requestState: await mint({ kind: 'tamper-test', nonce: randomUUID() }, ctx),
    });
  });

  tool('test_input_required_result_capabilities', 'MRTR: respects client capabilities in inputRequests', async (responses, ctx) => {
    if (responses && Object.keys(responses).length > 0) return text(`capabilities-ok: received ${Object.keys(responses).join(',')}`);
    const declared = declaredCapabilities(ctx);
    const inputRequests: Record<string, InputRequest> = {};
    if (declared?.elicitation) inputRequests['elicit_input'] = elicit('Elicitation input', 'value', 'string');
    if (declared?.sampling) inputRequests['sample_input'] = sample('Sample request', 50);
    if (Object.keys(inputRequests).length === 0) return text('No supported capabilities declared');
    return inputRequired({ inputRequests, requestState: await mint({ kind: 'capabilities-test', nonce: randomUUID() }, ctx) });
  });
}

function registerResources(server: McpServer): void {
  const staticText = (name: string, uri: string, title: string, description: string, mimeType: string, body: string): void => {
    server.registerResource(name, uri, { title, description, mimeType }, async () => ({ contents: [{ uri, mimeType, text: body }] }));
  };
  staticText(
    'static-text',
    'test://static-text',
    'Static Text Resource',
    'A static text resource for testing',
    'text/plain',
    'This is the content of the static text resource.',
  );
  server.registerResource(
    'static-binary',
    'test://static-binary',
    { title: 'Static Binary Resource', description: 'A static binary resource (image) for testing', mimeType: 'image/png' },
    async () => ({ contents: [{ uri: 'test://static-binary', mimeType: 'image/png', blob: TEST_IMAGE_BASE64 }] }),
  );
  server.registerResource(
    'template',
    new ResourceTemplate('test://template/{id}/data', { list: undefined }),
    { title: 'Resource Template', description: 'A resource template with parameter substitution', mimeType: 'application/json' },
    async (uri, variables) => ({
      contents: [
        {
          uri: uri.toString(),
          mimeType: 'application/json',
          text: JSON.stringify({ id: variables.id, templateTest: true, data: `Data for ID: ${String(variables.id)}` }),
        },
      ],
    }),
  );
  staticText(
    'watched-resource',
    'test://watched-resource',
    'Watched Resource',
    'A resource that auto-updates every 3 seconds',
    'text/plain',
    WATCHED_RESOURCE_CONTENT,
  );
  staticText(
    'Stateless Static Text',
    'test://stateless-static-text',
    'Stateless Static Text',
    'A static text resource served on the draft path',
    'text/plain',
    'Static text content from the stateless draft path.',
  );
}

function registerPrompts(server: McpServer): void {
  server.registerPrompt('test_simple_prompt', { title: 'Simple Test Prompt', description: 'A simple prompt without arguments' }, async () => ({
    messages: [{ role: 'user', content: { type: 'text', text: 'This is a simple prompt for testing.' } }],
  }));
  server.registerPrompt(
    'test_prompt_with_arguments',
    {
      title: 'Prompt With Arguments',
      description: 'A prompt with required arguments',
      argsSchema: z.object({ arg1: z.string().describe('First test argument'), arg2: z.string().describe('Second test argument') }),
    },
    async ({ arg1, arg2 }) => ({
      messages: [{ role: 'user', content: { type: 'text', text: `Prompt with arguments: arg1='${arg1}', arg2='${arg2}'` } }],
    }),
  );
  server.registerPrompt(
    'test_prompt_with_embedded_resource',
    {
      title: 'Prompt With Embedded Resource',
      description: 'A prompt that includes an embedded resource',
      argsSchema: z.object({ resourceUri: z.string().describe('URI of the resource to embed') }),
    },
    async ({ resourceUri }) => ({
      messages: [
        { role: 'user', content: { type: 'resource', resource: { uri: resourceUri, mimeType: 'text/plain', text: 'Embedded resource content for testing.' } } },
        { role: 'user', content: { type: 'text', text: 'Please process the embedded resource above.' } },
      ],
    }),
  );
  server.registerPrompt('test_prompt_with_image', { title: 'Prompt With Image', description: 'A prompt that includes image content' }, async () => ({
    messages: [
      { role: 'user', content: { type: 'image', data: TEST_IMAGE_BASE64, mimeType: 'image/png' } },
      { role: 'user', content: { type: 'text', text: 'Please analyze the image above.' } },
    ],
  }));
  // A prompt without argsSchema gets the context as its only argument.
  server.registerPrompt(
    'test_input_required_result_prompt',
    { description: 'MRTR: prompt that requires elicitation input' },
    async (ctx: ServerContext): Promise<GetPromptResult | InputRequiredResult> => {
      const responses = ctx.mcpReq.inputResponses as Responses;
      if (responses?.['user_context']) {
        return { messages: [{ role: 'user', content: { type: 'text', text: `Prompt with context: ${inputText(responses['user_context'], 'context')}` } }] };
      }
      return inputRequired({ inputRequests: { user_context: elicit('What context should the prompt use?', 'context', 'string') } });
    },
  );
}

/** The fixture's raw handlers: 2025-era subscribe/unsubscribe and setLevel, and an empty completion. */
function registerProtocolHandlers(server: McpServer): void {
  const subscriptions = new Set<string>();
  const sendLog = (message: string): void => {
    server.server
      .notification({ method: 'notifications/message', params: { level: 'info', logger: 'conformance-test-server', data: message } })
      .catch(() => undefined);
  };
  server.server.setRequestHandler('resources/subscribe', async (request) => {
    subscriptions.add(request.params.uri);
    sendLog(`Subscribed to resource: ${request.params.uri}`);
    return {};
  });
  server.server.setRequestHandler('resources/unsubscribe', async (request) => {
    subscriptions.delete(request.params.uri);
    sendLog(`Unsubscribed from resource: ${request.params.uri}`);
    return {};
  });
  server.server.setRequestHandler('logging/setLevel', async (request) => {
    sendLog(`Log level set to: ${request.params.level}`);
    return {};
  });
  // Basic completion support: an empty answer, as in the fixture.
  server.server.setRequestHandler('completion/complete', async () => ({ completion: { values: [], total: 0, hasMore: false } }));
}

function pause(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

function errorMessage(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

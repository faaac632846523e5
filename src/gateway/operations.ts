/**
 * @module gateway/operations
 * What the gateway does for each MCP request it serves, upstream by upstream:
 *
 * - `tools/list`, `prompts/list`, `resources/list`, `resources/templates/list`: every upstream
 *   of the endpoint is asked (all pages, in parallel, through the caller's connection) and the
 *   answers merged with names served as the endpoint's {@link View} says; an upstream that
 *   fails is left out (logged) while the others are served, and only when every one fails is
 *   the first failure answered. Tools pass the pin guard: a changed or held tool is not listed.
 * - `tools/call`, `prompts/get`, `resources/read`, `completion/complete`: routed by name (or
 *   URI) to one upstream, under its original name. A tool is called only as its connection
 *   listed it (listed again first when needed): a name that connection never listed is
 *   unknown, and a definition the pin guard does not allow is refused
 *   (`WARDEN_ERR_UPSTREAM_TOOL_HELD`). Progress the upstream reports is forwarded.
 * - Secrets: tool arguments and every result (tools, prompts, resources) are scanned; what is
 *   found is reported (kinds and JSON Pointers, never a value: the audit trail and the log), and
 *   the result is answered by the `secrets` policy: as it is (`off`), redacted, or withheld
 *   (`block`: `WARDEN_ERR_UPSTREAM_SECRET_BLOCKED`).
 * - A 2026-07-28 `tools/call` through a principal's connection may span several client round
 *   trips: what the upstream asks meanwhile is answered `input_required` (`gateway/input-rounds`).
 * Failures become wire errors naming the upstream (`gateway/wire`).
 */

import type { Logger } from 'pino';
import type { Client, RequestOptions, Tool } from '@modelcontextprotocol/client';
import { inputRequired } from '@modelcontextprotocol/server';
import type { CallToolRequestParams, CallToolResult, InputRequiredResult, CompleteRequestParams, CompleteResult, GetPromptRequestParams, GetPromptResult, Prompt, ListResourceTemplatesResult, ReadResourceResult, Resource, Server, ServerContext } from '@modelcontextprotocol/server';
import { toolInScope } from '../mcp/access.js';
import { toolError } from '../mcp/tools/context.js';
import { declaredCapabilities, Exchange, INPUT_KEY, isRoundState, type InputRounds, type RoundState } from './input-rounds.js';
import type { Principal } from '../security/identity.js';
import type { PinGuard } from './pin-guard.js';
import { redactWithFindings, scanValue, type SecretFinding, type SecretPolicy } from './secrets.js';
import type { UriRoutes, View } from './names.js';
import { describeFailure, gatewayError, toWireError, unknownName, unknownResource } from './wire.js';

type ResourceTemplate = ListResourceTemplatesResult['resourceTemplates'][number];

/** Who asks, and through what: one request in flight. */
export interface Caller {
  /** Whose connections serve it (`gateway/owners`). */
  readonly ownerKey: string;
  readonly principal: Principal;
  readonly sessionId: string | undefined;
  readonly ctx: ServerContext;
  /** The server answering it (projects tool results for its era). */
  readonly product: Server;
  /** A 2026-07-28 request (its client answers server requests only through `input_required`). */
  readonly modern?: boolean | undefined;
  /** The modern tools/call exchange this upstream call belongs to (`gateway/input-rounds`). */
  readonly exchange?: Exchange | undefined;
  /** Cancels the upstream call instead of the request's own signal (an exchange outlives its first request). */
  readonly signal?: AbortSignal | undefined;
}

/** What the gateway keeps per upstream client (per connection, renewed when it reopens). */
export interface ClientLink {
  readonly upstream: string;
  /** The tools this connection listed last, by name; undefined until listed, or after its list_changed. */
  tools: Promise<ReadonlyMap<string, Tool>> | undefined;
}

/** Runs `run` on the caller's connection to `upstream` (pool caps and call timeout; errors unmapped). */
export type UpstreamCall = <T>(upstream: string, caller: Caller, run: (client: Client, options: RequestOptions, link: ClientLink) => Promise<T>) => Promise<T>;

/** A secret found in what passed through (reported to the audit trail, the log and the metrics). */
export interface SecretEvent {
  readonly upstream: string;
  readonly kind: 'tool' | 'prompt' | 'resource';
  /** The tool or prompt name as the upstream has it (resources: undefined, a URI may itself be sensitive). */
  readonly name: string | undefined;
  readonly where: 'arguments' | 'result';
  readonly findings: readonly SecretFinding[];
  /** The scan stopped at a bound (the rest counts as a secret). */
  readonly truncated: boolean;
  /** What the response got: `pass` (as it was), `redacted`, `blocked`. Arguments always pass. */
  readonly action: 'pass' | 'redacted' | 'blocked';
  readonly principal: string;
  readonly session: string | undefined;
}

export interface OperationsOptions {
  readonly guard: PinGuard;
  readonly secrets: SecretPolicy;
  readonly separator: string;
  readonly uris: UriRoutes;
  readonly call: UpstreamCall;
  readonly logger: Logger;
  readonly onSecrets?: ((event: SecretEvent) => void) | undefined;
  /** String characters scanned per value at most (set above the largest result let through). */
  readonly maxScanChars: number;
  /** Modern tools/call exchanges and our requestState minting; without them nothing is relayed to modern clients. */
  readonly rounds?: { readonly table: InputRounds; mint(payload: RoundState, ctx: ServerContext): string } | undefined;
}

/** How many tools' `readOnlyHint` is remembered for scope checks before dispatch. */
const MAX_READ_ONLY = 10_000;

/** Whether the upstream announced the capability (the SDK client would warn on stdout, our log stream, and answer empty). */
function offers(client: Client, capability: 'tools' | 'prompts' | 'resources'): boolean {
  return client.getServerCapabilities()?.[capability] !== undefined;
}

function isReadOnly(tool: { annotations?: { readOnlyHint?: unknown } | undefined }): boolean {
  return tool.annotations?.readOnlyHint === true;
}

export class Operations {
  readonly #options: OperationsOptions;
  /** Scope name (`<upstream><sep><tool>`) → readOnlyHint as last listed (insertion order is age). */
  readonly #readOnly = new Map<string, boolean>();

  constructor(options: OperationsOptions) {
    this.#options = options;
  }

  /** Whether the tool scopes call `scopeName` read-only (as last listed); false when never listed. */
  readOnly(scopeName: string): boolean {
    return this.#readOnly.get(scopeName) === true;
  }

  async listTools(view: View, caller: Caller): Promise<{ tools: Tool[] }> {
    const lists = await this.#each(view, caller, (client, options, link) => this.#toolsOf(client, link, options, true));
    const tools: Tool[] = [];
    for (const [upstream, listed] of lists) {
      for (const tool of listed.values()) {
        if (!this.#options.guard.visible(upstream, tool)) continue;
        this.#noteReadOnly(upstream, tool);
        tools.push({ ...tool, name: view.serve(upstream, tool.name) });
      }
    }
    return { tools };
  }

  async callTool(view: View, caller: Caller, params: CallToolRequestParams): Promise<CallToolResult | InputRequiredResult> {
    const routed = view.route(params.name);
    if (routed === undefined) throw unknownName('tool');
    const { upstream, name } = routed;
    const rounds = this.#options.rounds;
    if (rounds !== undefined && caller.modern === true) return this.#callInRounds(rounds, upstream, name, caller, params);
    return this.#callOnce(upstream, name, caller, params);
  }

  /**
   * A modern tools/call: the first round starts the upstream call, a retry (its requestState
   * verified by the SDK seam) answers the upstream's pending request; both then wait for the
   * upstream's result or its next request (see `gateway/input-rounds`).
   */
  async #callInRounds(rounds: NonNullable<OperationsOptions['rounds']>, upstream: string, name: string, caller: Caller, params: CallToolRequestParams): Promise<CallToolResult | InputRequiredResult> {
    const ctx = caller.ctx;
    const state = ctx.mcpReq.requestState<unknown>();
    let exchange: Exchange;
    if (state !== undefined) {
      // Sealed by us, for this principal, tool and arguments (or the SDK refused it already).
      const answer = ctx.mcpReq.inputResponses?.[INPUT_KEY];
      if (!isRoundState(state) || typeof answer !== 'object' || answer === null) throw gatewayError('WARDEN_ERR_UPSTREAM_INPUT_GONE', upstream);
      try {
        exchange = rounds.table.resume(state.g, caller.principal.id, upstream);
      } catch (error) {
        this.#options.logger.info({ upstream, principal: caller.principal.id, ...describeFailure(error) }, 'input round retry refused');
        throw gatewayError('WARDEN_ERR_UPSTREAM_INPUT_GONE', upstream);
      }
      exchange.capabilities = declaredCapabilities(ctx);
      exchange.pending?.resolve(answer);
      exchange.pending = undefined;
    } else {
      exchange = new Exchange(caller.ownerKey, caller.principal.id, upstream, declaredCapabilities(ctx));
      exchange.attach(this.#callOnce(upstream, name, { ...caller, exchange, signal: exchange.controller.signal }, params));
    }
    const step = await exchange.next(ctx.mcpReq.signal);
    if (step.kind === 'done') return step.result;
    if (step.kind === 'failed') throw step.error;
    if (step.kind === 'refused') {
      exchange.controller.abort();
      return toolError(step.message);
    }
    let requestState: string;
    try {
      requestState = rounds.mint({ g: step.id }, ctx);
    } catch (error) {
      rounds.table.abandon(step.id, 'the client could not be asked');
      throw error;
    }
    return inputRequired({ inputRequests: { [INPUT_KEY]: step.request }, requestState });
  }

  async #callOnce(upstream: string, name: string, caller: Caller, params: CallToolRequestParams): Promise<CallToolResult> {
    const token = caller.ctx.mcpReq._meta?.progressToken;
    let definition: Tool | undefined;
    const result = await this.#run(upstream, caller, async (client, options, link) => {
      definition = (await this.#toolsOf(client, link, options, false)).get(name);
      if (definition === undefined) throw unknownName('tool');
      if (!this.#options.guard.callable(upstream, definition)) throw gatewayError('WARDEN_ERR_UPSTREAM_TOOL_HELD', upstream);
      // The scope was checked before dispatch against the last listing; this connection's own
      // definition decides (with session isolation each client has its own child).
      const scope = caller.principal.tools;
      const readOnly = isReadOnly(definition);
      if (scope !== undefined && !toolInScope(scope, `${upstream}${this.#options.separator}${name}`, () => readOnly)) throw unknownName('tool');
      this.#scan(caller, upstream, 'tool', name, 'arguments', params.arguments ?? {});
      return client.callTool(
        { name, ...(params.arguments === undefined ? {} : { arguments: params.arguments }) },
        {
          ...options,
          toolDefinition: definition,
          ...(token === undefined
            ? {}
            : { onprogress: (progress) => void caller.ctx.mcpReq.notify({ method: 'notifications/progress', params: { ...progress, progressToken: token } }).catch(() => undefined) }),
        },
      );
    });
    const answered = this.#scan(caller, upstream, 'tool', name, 'result', result) as CallToolResult;
    return caller.product.projectCallToolResult(answered, definition?.outputSchema as Record<string, unknown> | undefined);
  }

  async listPrompts(view: View, caller: Caller): Promise<{ prompts: Prompt[] }> {
    const lists = await this.#each(view, caller, async (client, options) => (offers(client, 'prompts') ? (await client.listPrompts(undefined, { ...options, cacheMode: 'bypass' })).prompts : []));
    const prompts: Prompt[] = [];
    for (const [upstream, listed] of lists) for (const prompt of listed) prompts.push({ ...prompt, name: view.serve(upstream, prompt.name) });
    return { prompts };
  }

  async getPrompt(view: View, caller: Caller, params: GetPromptRequestParams): Promise<GetPromptResult> {
    const routed = view.route(params.name);
    if (routed === undefined) throw unknownName('prompt');
    const { upstream, name } = routed;
    const result = await this.#run(upstream, caller, (client, options) => client.getPrompt({ ...params, name }, options));
    return this.#scan(caller, upstream, 'prompt', name, 'result', result) as GetPromptResult;
  }

  async listResources(view: View, caller: Caller): Promise<{ resources: Resource[] }> {
    const lists = await this.#each(view, caller, async (client, options) => (offers(client, 'resources') ? (await client.listResources(undefined, { ...options, cacheMode: 'bypass' })).resources : []));
    const resources: Resource[] = [];
    for (const [upstream, listed] of lists) {
      this.#options.uris.noteResources(upstream, listed.map((resource) => resource.uri));
      for (const resource of listed) resources.push({ ...resource, name: view.serve(upstream, resource.name) });
    }
    return { resources };
  }

  async listResourceTemplates(view: View, caller: Caller): Promise<{ resourceTemplates: ResourceTemplate[] }> {
    const lists = await this.#each(view, caller, async (client, options) =>
      offers(client, 'resources') ? (await client.listResourceTemplates(undefined, { ...options, cacheMode: 'bypass' })).resourceTemplates : [],
    );
    const resourceTemplates: ResourceTemplate[] = [];
    for (const [upstream, listed] of lists) {
      this.#options.uris.noteTemplates(upstream, listed.map((template) => template.uriTemplate));
      for (const template of listed) resourceTemplates.push({ ...template, name: view.serve(upstream, template.name) });
    }
    return { resourceTemplates };
  }

  async readResource(view: View, caller: Caller, uri: string): Promise<ReadResourceResult> {
    const upstream = await this.#routeUri(view, caller, uri);
    const result = await this.#run(upstream, caller, (client, options) => client.readResource({ uri }, { ...options, cacheMode: 'bypass' }));
    return this.#scan(caller, upstream, 'resource', undefined, 'result', result) as ReadResourceResult;
  }

  async complete(view: View, caller: Caller, params: CompleteRequestParams): Promise<CompleteResult> {
    const ref = params.ref;
    let upstream: string;
    let forwarded: CompleteRequestParams = params;
    if (ref.type === 'ref/prompt') {
      const routed = view.route(ref.name);
      if (routed === undefined) throw unknownName('prompt');
      upstream = routed.upstream;
      forwarded = { ...params, ref: { ...ref, name: routed.name } };
    } else {
      upstream = await this.#routeUri(view, caller, ref.uri);
    }
    return this.#run(upstream, caller, async (client, options) =>
      client.getServerCapabilities()?.completions === undefined ? { completion: { values: [] } } : client.complete(forwarded, options),
    );
  }

  /** One upstream call, failures mapped to the wire (and logged). */
  async #run<T>(upstream: string, caller: Caller, run: (client: Client, options: RequestOptions, link: ClientLink) => Promise<T>): Promise<T> {
    try {
      return await this.#options.call(upstream, caller, run);
    } catch (error) {
      throw this.#failed(upstream, caller, error);
    }
  }

  /** Every upstream of `view` in parallel; failed ones are logged and left out unless all failed. */
  async #each<T>(view: View, caller: Caller, run: (client: Client, options: RequestOptions, link: ClientLink) => Promise<T>): Promise<Map<string, T>> {
    const settled = await Promise.allSettled(view.upstreams.map((upstream) => this.#options.call(upstream, caller, run)));
    const answers = new Map<string, T>();
    let first: unknown;
    settled.forEach((outcome, index) => {
      const upstream = view.upstreams[index] as string;
      if (outcome.status === 'fulfilled') answers.set(upstream, outcome.value);
      else first ??= this.#failed(upstream, caller, outcome.reason);
    });
    if (answers.size === 0 && first !== undefined) throw first;
    return answers;
  }

  #failed(upstream: string, caller: Caller, error: unknown): unknown {
    const wire = toWireError(error, upstream);
    this.#options.logger.warn({ upstream, method: caller.ctx.mcpReq.method, principal: caller.principal.id, ...describeFailure(error) }, 'upstream request failed');
    return wire;
  }

  #toolsOf(client: Client, link: ClientLink, options: RequestOptions, fresh: boolean): Promise<ReadonlyMap<string, Tool>> {
    if (fresh || link.tools === undefined) {
      const listing = (offers(client, 'tools') ? client.listTools(undefined, { ...options, cacheMode: 'bypass' }) : Promise.resolve({ tools: [] as Tool[] })).then(
        ({ tools }) => new Map(tools.map((tool) => [tool.name, tool] as const)),
      );
      link.tools = listing;
      listing.catch(() => {
        if (link.tools === listing) link.tools = undefined;
      });
    }
    return link.tools;
  }

  #noteReadOnly(upstream: string, tool: Tool): void {
    const key = `${upstream}${this.#options.separator}${tool.name}`;
    this.#readOnly.delete(key);
    this.#readOnly.set(key, isReadOnly(tool));
    if (this.#readOnly.size > MAX_READ_ONLY) this.#readOnly.delete(this.#readOnly.keys().next().value as string);
  }

  async #routeUri(view: View, caller: Caller, uri: string): Promise<string> {
    let upstream = this.#options.uris.route(uri, view);
    if (upstream === undefined) {
      // Not seen yet (a client that reads without listing): learn the view's URIs once.
      await Promise.allSettled([this.listResources(view, caller), this.listResourceTemplates(view, caller)]);
      upstream = this.#options.uris.route(uri, view);
    }
    if (upstream === undefined || upstream === 'ambiguous') throw unknownResource();
    return upstream;
  }

  /**
   * Scans `value` for secrets and reports them; for a result, returns what the policy answers
   * (throws when it withholds it). Arguments are returned unchanged (they go to the upstream).
   */
  #scan(caller: Caller, upstream: string, kind: SecretEvent['kind'], name: string | undefined, where: SecretEvent['where'], value: unknown): unknown {
    const policy = where === 'arguments' ? 'off' : this.#options.secrets;
    const bounds = { maxScanChars: this.#options.maxScanChars };
    const scanned = policy === 'redact' ? redactWithFindings(value, bounds) : { ...scanValue(value, bounds), value };
    if (scanned.findings.length === 0 && !scanned.truncated) return value;
    const action = policy === 'off' ? 'pass' : policy === 'redact' ? 'redacted' : 'blocked';
    this.#options.onSecrets?.({ upstream, kind, name, where, findings: scanned.findings, truncated: scanned.truncated, action, principal: caller.principal.id, session: caller.sessionId });
    if (action === 'blocked') throw gatewayError('WARDEN_ERR_UPSTREAM_SECRET_BLOCKED', upstream);
    return action === 'redacted' ? scanned.value : value;
  }
}

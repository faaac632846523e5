/**
 * @module mcp/access
 * Which MCP requests and list entries a credential may see: least privilege beyond `tools/call`.
 *
 * The mapping (README "Operator role and least privilege"):
 * - a tool is usable when the credential's tool scope names it (or it has no tool scope) and,
 *   for an operator-only tool (`server_status`), when the credential is an operator;
 * - a resource under an operator-only URI prefix (`warden://server/`) needs an operator;
 * - a tool-describing resource (`warden://tools/<name>`) is usable when tool `<name>` is, and
 *   completions of its template's argument list only usable tools;
 * - an operator-only prompt (`security_review`) needs an operator, to list, get or complete.
 *
 * Tool scopes (a key's `tools`, a token's `<prefix>tools:<name>` scopes) name tools exactly, or
 * by prefix with a trailing `*` (`everything__*`: every tool whose name starts `everything__`;
 * `*` alone: every tool), or with the word `readonly`: every tool annotated
 * `readOnlyHint: true`, when the rules can tell ({@link AccessRules.readOnlyTool}: the gateway
 * can, from its upstreams' listings; elsewhere `readonly` names only a tool called `readonly`).
 * A server served under other names than its scopes use (a gateway upstream alone on
 * `/mcp/<name>`, whose tools are scoped as `<name>__<tool>`) maps them with
 * {@link AccessRules.scopeName}.
 *
 * Requests naming something the credential may not use are refused before dispatch
 * ({@link refusedRequest}: 403 insufficient_scope, like an out-of-scope tool call); list and
 * completion results are reduced to what it may use ({@link visibleResult}).
 */

import type { JSONRPCMessage } from '@modelcontextprotocol/server';
import type { Principal } from '../security/identity.js';

/** What parts of an MCP server are operator-only or describe a tool. */
export interface AccessRules {
  /** Tools only operators may list and call. */
  readonly operatorTools: ReadonlySet<string>;
  /** Resource URI prefixes (normalised as `new URL(uri).href`) only operators may list, read or complete. */
  readonly operatorResources: readonly string[];
  /** Prompts only operators may list, get or complete. */
  readonly operatorPrompts: ReadonlySet<string>;
  /** Resources `<prefix><tool name>` describing one tool each, from the template `template` with argument `argument`. */
  readonly toolResources?: { readonly prefix: string; readonly template: string; readonly argument: string } | undefined;
  /** The name a served tool has in tool scopes (default: as served). */
  readonly scopeName?: ((name: string) => string) | undefined;
  /**
   * Whether a served tool is annotated `readOnlyHint: true`, for the `readonly` scope of a
   * `tools/call` (lists read the annotation of each entry). Undefined: the `readonly` scope
   * grants nothing beyond a tool named `readonly`.
   */
  readonly readOnlyTool?: ((name: string) => boolean) | undefined;
}

/** No operator-only parts: tool scopes filter tools only. */
export const NO_OPERATOR_PARTS: AccessRules = Object.freeze({ operatorTools: new Set<string>(), operatorResources: [], operatorPrompts: new Set<string>() });

/**
 * Rules for operator-only parts a library user names.
 *
 * @example
 * accessRules({ tools: ['admin_stats'], resourcePrefixes: ['myapp://admin/'], prompts: ['audit'] });
 */
export function accessRules(parts: { tools?: readonly string[]; resourcePrefixes?: readonly string[]; prompts?: readonly string[] } = {}): AccessRules {
  return Object.freeze({
    operatorTools: new Set(parts.tools ?? []),
    operatorResources: (parts.resourcePrefixes ?? []).map(normalizeUri),
    operatorPrompts: new Set(parts.prompts ?? []),
  });
}

/** Why a request was refused: a tool outside the tool scope, or operator data. */
export interface Denial {
  readonly kind: 'tool' | 'operator';
  /** The tool (kind `tool`) or what was asked for (`resources/read`, `prompts/get`...); clipped. */
  readonly name: string;
}

const MAX_NAME = 64;

function clip(name: string): string {
  return name.length > MAX_NAME ? `${name.slice(0, MAX_NAME)}…` : name;
}

/** The URI as the SDK looks it up (`new URL(uri).href`: lower-case scheme), or as given when not a URL. */
function normalizeUri(uri: string): string {
  try {
    return new URL(uri).href;
  } catch {
    return uri;
  }
}

/** True when nothing needs filtering for this principal. */
export function unrestricted(principal: Principal): boolean {
  return principal.tools === undefined && principal.operator === true;
}

/** The scope word granting every tool annotated `readOnlyHint: true`. */
export const READONLY_SCOPE = 'readonly';

/** A tool scope, split once per scope set: exact names, `*` prefixes, the `readonly` word. */
interface CompiledScope {
  readonly prefixes: readonly string[];
  readonly readOnly: boolean;
}

const compiled = new WeakMap<ReadonlySet<string>, CompiledScope>();

function compile(tools: ReadonlySet<string>): CompiledScope {
  let scope = compiled.get(tools);
  if (scope === undefined) {
    const prefixes: string[] = [];
    for (const entry of tools) if (entry.endsWith('*')) prefixes.push(entry.slice(0, -1));
    scope = { prefixes, readOnly: tools.has(READONLY_SCOPE) };
    compiled.set(tools, scope);
  }
  return scope;
}

/**
 * Whether a tool scope grants the tool `name` (as scopes name it): by exact name, by a
 * trailing-`*` prefix, or by `readonly` when `readOnly()` says the tool is read-only.
 *
 * @example
 * toolInScope(new Set(['everything__*']), 'everything__echo', () => false); // true
 * toolInScope(new Set(['readonly']), 'memory__read_graph', () => true);     // true
 */
export function toolInScope(tools: ReadonlySet<string>, name: string, readOnly: () => boolean): boolean {
  if (tools.has(name)) return true;
  const scope = compile(tools);
  for (const prefix of scope.prefixes) if (name.startsWith(prefix)) return true;
  return scope.readOnly && readOnly();
}

/** `readOnly`: the tool's annotation when the caller holds it (a list entry); else the rules are asked. */
function toolDenial(principal: Principal, rules: AccessRules, name: string, readOnly?: boolean): Denial | undefined {
  const scoped = rules.scopeName === undefined ? name : rules.scopeName(name);
  if (principal.tools !== undefined && !toolInScope(principal.tools, scoped, () => rules.readOnlyTool !== undefined && (readOnly ?? rules.readOnlyTool(name)))) {
    return { kind: 'tool', name: clip(scoped) };
  }
  if (principal.operator !== true && rules.operatorTools.has(name)) return { kind: 'operator', name: clip(name) };
  return undefined;
}

/** The `readOnlyHint` annotation of a tools/list entry. */
function annotatedReadOnly(tool: { annotations?: unknown }): boolean {
  const annotations = tool.annotations;
  return typeof annotations === 'object' && annotations !== null && (annotations as { readOnlyHint?: unknown }).readOnlyHint === true;
}

/** The tool a tool-describing resource URI names (decoded), '' when undecodable, undefined when not one. */
function toolOfResource(rules: AccessRules, uri: string): string | undefined {
  const guide = rules.toolResources;
  if (guide === undefined || !uri.startsWith(guide.prefix)) return undefined;
  const segment = uri.slice(guide.prefix.length).split(/[/?#]/, 1)[0] ?? '';
  try {
    return decodeURIComponent(segment);
  } catch {
    return '';
  }
}

function resourceDenial(principal: Principal, rules: AccessRules, uri: string): Denial | undefined {
  const normal = normalizeUri(uri);
  if (principal.operator !== true && rules.operatorResources.some((prefix) => normal.startsWith(prefix))) return { kind: 'operator', name: 'resource' };
  const tool = toolOfResource(rules, normal);
  return tool === undefined ? undefined : toolDenial(principal, rules, tool);
}

function promptDenial(principal: Principal, rules: AccessRules, name: string): Denial | undefined {
  return principal.operator !== true && rules.operatorPrompts.has(name) ? { kind: 'operator', name: 'prompt' } : undefined;
}

function requestDenial(principal: Principal, rules: AccessRules, method: string, params: Record<string, unknown> | undefined): Denial | undefined {
  switch (method) {
    case 'tools/call': {
      const name = params?.['name'];
      // A call without a string name is malformed, not out of scope: the server answers `RPC.INVALID_PARAMS`.
      return typeof name === 'string' ? toolDenial(principal, rules, name) : undefined;
    }
    case 'resources/read':
    case 'resources/subscribe': {
      const uri = params?.['uri'];
      return typeof uri === 'string' ? resourceDenial(principal, rules, uri) : undefined;
    }
    case 'prompts/get': {
      const name = params?.['name'];
      return typeof name === 'string' ? promptDenial(principal, rules, name) : undefined;
    }
    case 'completion/complete': {
      const ref = params?.['ref'] as { type?: unknown; name?: unknown; uri?: unknown } | undefined;
      if (ref?.type === 'ref/prompt' && typeof ref.name === 'string') return promptDenial(principal, rules, ref.name);
      if (ref?.type === 'ref/resource' && typeof ref.uri === 'string' && ref.uri !== rules.toolResources?.template) return resourceDenial(principal, rules, ref.uri);
      return undefined;
    }
    default:
      return undefined;
  }
}

/**
 * The first request in `messages` naming a tool, resource or prompt the principal may not use.
 * Checked before dispatch so a refused request never reaches the server.
 */
export function refusedRequest(principal: Principal, rules: AccessRules, messages: readonly JSONRPCMessage[]): Denial | undefined {
  if (unrestricted(principal)) return undefined;
  for (const message of messages) {
    if (!('method' in message) || !('id' in message)) continue;
    const denial = requestDenial(principal, rules, message.method, message.params as Record<string, unknown> | undefined);
    if (denial !== undefined) return denial;
  }
  return undefined;
}

function keep<T>(result: Record<string, unknown>, field: string, allowed: (entry: T) => boolean): Record<string, unknown> {
  const entries = result[field];
  if (!Array.isArray(entries)) return result;
  return { ...result, [field]: entries.filter((entry: T) => typeof entry === 'object' && entry !== null && allowed(entry)) };
}

/**
 * A list or completion result reduced to what the principal may use; other results unchanged.
 * `params` are the request's.
 */
export function visibleResult(principal: Principal, rules: AccessRules, method: string, params: Record<string, unknown> | undefined, result: Record<string, unknown>): Record<string, unknown> {
  if (unrestricted(principal)) return result;
  switch (method) {
    case 'tools/list':
      return keep<{ name?: unknown; annotations?: unknown }>(result, 'tools', (tool) => typeof tool.name === 'string' && toolDenial(principal, rules, tool.name, annotatedReadOnly(tool)) === undefined);
    case 'resources/list':
      return keep<{ uri?: unknown }>(result, 'resources', (resource) => typeof resource.uri === 'string' && resourceDenial(principal, rules, resource.uri) === undefined);
    case 'resources/templates/list':
      return keep<{ uriTemplate?: unknown }>(
        result,
        'resourceTemplates',
        (template) => typeof template.uriTemplate === 'string' && (principal.operator === true || !rules.operatorResources.some((prefix) => normalizeUri(template.uriTemplate as string).startsWith(prefix))),
      );
    case 'prompts/list':
      return keep<{ name?: unknown }>(result, 'prompts', (prompt) => typeof prompt.name === 'string' && promptDenial(principal, rules, prompt.name) === undefined);
    case 'completion/complete': {
      const guide = rules.toolResources;
      const ref = params?.['ref'] as { type?: unknown; uri?: unknown } | undefined;
      const argument = (params?.['argument'] as { name?: unknown } | undefined)?.name;
      if (guide === undefined || ref?.type !== 'ref/resource' || ref.uri !== guide.template || argument !== guide.argument) return result;
      const completion = result['completion'] as { values?: unknown } | undefined;
      if (completion === undefined || !Array.isArray(completion.values)) return result;
      const values = completion.values.filter((value: unknown) => typeof value === 'string' && toolDenial(principal, rules, value) === undefined);
      return { ...result, completion: { values, total: values.length, hasMore: false } };
    }
    default:
      return result;
  }
}

/**
 * Tool scopes beyond exact names (mcp/access): trailing-`*` prefixes, the `readonly` word (tools
 * annotated readOnlyHint, when the rules can tell), and scope names mapped from served names
 * (a gateway upstream alone on /mcp/<name>), for lists and for calls.
 */

import { describe, expect, it } from 'vitest';
import { NO_OPERATOR_PARTS, refusedRequest, toolInScope, visibleResult, type AccessRules } from '../../src/mcp/access.js';
import type { Principal } from '../../src/security/identity.js';

function scoped(...tools: string[]): Principal {
  return { kind: 'api-key', id: 'key_scoped', name: undefined, tools: new Set(tools) };
}

const call = (name: string) => [{ jsonrpc: '2.0' as const, id: 1, method: 'tools/call', params: { name } }];
const READ_ONLY = new Set(['memory__read_graph', 'everything__echo']);
const GATEWAY: AccessRules = { ...NO_OPERATOR_PARTS, readOnlyTool: (name) => READ_ONLY.has(name) };
const LIST = {
  tools: [
    { name: 'everything__echo', annotations: { readOnlyHint: true } },
    { name: 'everything__toggle', annotations: { readOnlyHint: false } },
    { name: 'memory__read_graph', annotations: { readOnlyHint: true } },
    { name: 'memory__create_entities' },
    { name: 'files__write_file', annotations: { readOnlyHint: false } },
  ],
};
const names = (result: Record<string, unknown>) => (result['tools'] as Array<{ name: string }>).map((tool) => tool.name);

describe('tool scope prefixes', () => {
  it('a trailing * grants every tool with that prefix, in lists and calls', () => {
    const principal = scoped('everything__*');
    expect(names(visibleResult(principal, GATEWAY, 'tools/list', undefined, LIST))).toEqual(['everything__echo', 'everything__toggle']);
    expect(refusedRequest(principal, GATEWAY, call('everything__toggle'))).toBeUndefined();
    expect(refusedRequest(principal, GATEWAY, call('memory__read_graph'))).toEqual({ kind: 'tool', name: 'memory__read_graph' });
    // `*` is only a wildcard at the end; elsewhere it is a character of a name.
    expect(toolInScope(new Set(['every*__echo']), 'everything__echo', () => false)).toBe(false);
    expect(toolInScope(new Set(['*']), 'anything', () => false)).toBe(true);
  });
});

describe('the readonly scope', () => {
  it('grants tools annotated readOnlyHint: true when the rules know the annotations', () => {
    const principal = scoped('readonly');
    expect(names(visibleResult(principal, GATEWAY, 'tools/list', undefined, LIST))).toEqual(['everything__echo', 'memory__read_graph']);
    expect(refusedRequest(principal, GATEWAY, call('memory__read_graph'))).toBeUndefined();
    expect(refusedRequest(principal, GATEWAY, call('memory__create_entities'))).toEqual({ kind: 'tool', name: 'memory__create_entities' });
    // Never listed: not known to be read-only, refused (fail closed).
    expect(refusedRequest(principal, GATEWAY, call('files__read_file'))).toEqual({ kind: 'tool', name: 'files__read_file' });
  });

  it('grants nothing but a tool named readonly where the rules cannot tell', () => {
    const principal = scoped('readonly');
    expect(names(visibleResult(principal, NO_OPERATOR_PARTS, 'tools/list', undefined, LIST))).toEqual([]);
    expect(refusedRequest(principal, NO_OPERATOR_PARTS, call('everything__echo'))).toEqual({ kind: 'tool', name: 'everything__echo' });
    expect(refusedRequest(principal, NO_OPERATOR_PARTS, call('readonly'))).toBeUndefined();
  });

  it('combines with prefixes and names', () => {
    const principal = scoped('readonly', 'files__*');
    expect(names(visibleResult(principal, GATEWAY, 'tools/list', undefined, LIST))).toEqual(['everything__echo', 'memory__read_graph', 'files__write_file']);
  });
});

describe('scope names of a served name', () => {
  it('checks the name scopes use, and refuses naming it', () => {
    // Both take the served name (the gateway maps it for its read-only index itself).
    const alone: AccessRules = { ...NO_OPERATOR_PARTS, scopeName: (name) => `memory__${name}`, readOnlyTool: (name) => READ_ONLY.has(`memory__${name}`) };
    const principal = scoped('memory__read*');
    const served = { tools: [{ name: 'read_graph' }, { name: 'create_entities' }] };
    expect(names(visibleResult(principal, alone, 'tools/list', undefined, served))).toEqual(['read_graph']);
    expect(refusedRequest(principal, alone, call('read_graph'))).toBeUndefined();
    expect(refusedRequest(principal, alone, call('create_entities'))).toEqual({ kind: 'tool', name: 'memory__create_entities' });
    expect(refusedRequest(scoped('readonly'), alone, call('read_graph'))).toBeUndefined();
  });
});

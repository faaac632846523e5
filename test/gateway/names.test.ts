/**
 * How the gateway names and finds things: prefixed names routed back to their upstream, the
 * config refusing upstream names that would make a prefixed name ambiguous, resource URIs
 * routed by listings and template prefixes, and the one-liner's upstream name.
 */

import { describe, expect, it } from 'vitest';
import { commandUpstreamName, gatewayOf } from '../../src/config/gateway.js';
import { parseGatewayConfig, prefixCollisions } from '../../src/gateway/config.js';
import { templatePrefix, UriRoutes, View } from '../../src/gateway/names.js';

describe('View', () => {
  const all = new View(['everything', 'memory', 'a-b'], '__', true);

  it('serves names prefixed and routes them back, including names holding the separator', () => {
    expect(all.serve('memory', 'read_graph')).toBe('memory__read_graph');
    expect(all.route('memory__read_graph')).toEqual({ upstream: 'memory', name: 'read_graph' });
    expect(all.route('everything__odd__name')).toEqual({ upstream: 'everything', name: 'odd__name' });
    expect(all.route('a-b__x')).toEqual({ upstream: 'a-b', name: 'x' });
    expect(all.route('nobody__x')).toBeUndefined();
    expect(all.route('memory_read_graph')).toBeUndefined();
    expect(all.scopeName('memory__read_graph')).toBe('memory__read_graph');
  });

  it('serves one upstream alone under its own names, scoped as on /mcp', () => {
    const alone = new View(['memory'], '__', false);
    expect(alone.serve('memory', 'read_graph')).toBe('read_graph');
    expect(alone.route('read_graph')).toEqual({ upstream: 'memory', name: 'read_graph' });
    expect(alone.scopeName('read_graph')).toBe('memory__read_graph');
    expect(() => new View(['a', 'b'], '__', false)).toThrow();
  });
});

describe('prefix collisions', () => {
  it('refuses names where one prefix is a prefix of another, naming both', () => {
    expect(prefixCollisions(['a', 'a_'], '__')).toEqual(['mcpServers.a_: "a___…" also starts with "a__" (prefixed names would be ambiguous; rename one)']);
    expect(prefixCollisions(['files', 'files2', 'memory'], '__')).toEqual([]);
    expect(prefixCollisions(['x', 'x-y'], '-')).toHaveLength(1);
    expect(() => parseGatewayConfig({ mcpServers: { a: { command: 'a' }, a_: { command: 'b' } } }, {})).toThrow(/ambiguous/);
  });
});

describe('UriRoutes', () => {
  const view = new View(['files', 'everything'], '__', true);

  it('routes a listed URI to the upstream that listed it, else by the longest template prefix', () => {
    const routes = new UriRoutes();
    routes.noteResources('everything', ['demo://resource/static/1']);
    routes.noteTemplates('files', ['file:///{path}']);
    routes.noteTemplates('everything', ['demo://resource/dynamic/{id}', '{+anything}']);
    expect(routes.route('demo://resource/static/1', view)).toBe('everything');
    expect(routes.route('file:///tmp/x', view)).toBe('files');
    expect(routes.route('demo://resource/dynamic/7', view)).toBe('everything');
    // An all-expression template claims nothing.
    expect(routes.route('other://x', view)).toBeUndefined();
    expect(templatePrefix('file:///{path}')).toBe('file:///');
  });

  it('calls a tie between two upstreams ambiguous, and one upstream alone takes everything', () => {
    const routes = new UriRoutes();
    routes.noteTemplates('files', ['mem://{x}']);
    routes.noteTemplates('everything', ['mem://{y}']);
    expect(routes.route('mem://1', view)).toBe('ambiguous');
    expect(routes.route('anything://at-all', new View(['files'], '__', false))).toBe('files');
  });

  it('remembers at most maxUris listed URIs, forgetting the oldest', () => {
    const routes = new UriRoutes(2);
    routes.noteResources('files', ['u://1', 'u://2']);
    routes.noteResources('everything', ['u://3']);
    expect(routes.route('u://1', view)).toBeUndefined();
    expect(routes.route('u://3', view)).toBe('everything');
  });
});

describe('the one-liner upstream', () => {
  it('names the upstream after what the command runs', () => {
    expect(commandUpstreamName(['npx', '-y', '@modelcontextprotocol/server-everything'])).toBe('server-everything');
    expect(commandUpstreamName(['npx', '-y', '@modelcontextprotocol/server-filesystem@2025.1.1', '/data'])).toBe('server-filesystem');
    expect(commandUpstreamName(['/usr/bin/node', '/opt/x/server-everything/dist/index.js', 'stdio'])).toBe('server-everything');
    expect(commandUpstreamName(['uvx', 'mcp-server-git', '--repository', '.'])).toBe('mcp-server-git');
    expect(commandUpstreamName(['docker', 'run', '-i', '--rm', 'mcp/fetch:latest'])).toBe('fetch');
    expect(commandUpstreamName(['github-mcp-server', 'stdio'])).toBe('github-mcp-server');
    expect(commandUpstreamName(['./my tool!.sh'])).toBe('my-tool-sh');
    expect(commandUpstreamName(['weird__name'])).toBe('weird_name');
    expect(commandUpstreamName(['npx'])).toBe('npx');
    expect(commandUpstreamName(['%%%'])).toBe('upstream');
  });

  it('keeps a literal ${ of the command, joins the file\u2019s gateway options, and refuses a name given twice', () => {
    const problems: string[] = [];
    const gateway = gatewayOf({ gateway: { secrets: 'redact' } }, {}, undefined, { argv: ['tool', '${HOME}'], name: undefined }, problems);
    expect(problems).toEqual([]);
    expect(gateway?.upstreams[0]).toMatchObject({ name: 'tool', command: 'tool', args: ['${HOME}'] });
    expect(gateway?.secrets).toBe('redact');

    const twice: string[] = [];
    gatewayOf({ mcpServers: { tool: { command: 'x' } } }, {}, undefined, { argv: ['tool'], name: undefined }, twice);
    expect(twice).toEqual(['--upstream-name: an upstream named "tool" is in the config file too; give the command\u2019s upstream another name'.replace('\u2019', "'")]);

    const alone: string[] = [];
    gatewayOf({}, {}, undefined, { argv: [], name: 'x' }, alone);
    expect(alone[0]).toMatch(/--upstream-name names the upstream command given after "--"/);
  });
});

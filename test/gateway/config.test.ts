/**
 * The gateway's upstream configuration: the `mcpServers` shape MCP clients keep (top level or
 * under `gateway`), our per-upstream keys and their defaults, `${VAR}` expansion, and errors that
 * name the upstream and key but never an expanded value.
 */

import { describe, expect, it } from 'vitest';
import { ConfigError } from '../../src/config/load.js';
import { expand, parseGatewayConfig, type RemoteUpstreamConfig, type StdioUpstreamConfig } from '../../src/gateway/config.js';

function problemsOf(raw: unknown, env: Record<string, string> = {}): string[] {
  try {
    parseGatewayConfig(raw, env);
  } catch (error) {
    expect(error).toBeInstanceOf(ConfigError);
    expect((error as ConfigError).code).toBe('WARDEN_ERR_CONFIG');
    return [...(error as ConfigError).problems];
  }
  throw new Error('expected a ConfigError');
}

describe('parseGatewayConfig', () => {
  it('reads the mcpServers shape at the top level, with defaults per transport', () => {
    const config = parseGatewayConfig(
      {
        port: 8443,
        mcpServers: {
          everything: { command: 'npx', args: ['-y', '@modelcontextprotocol/server-everything'] },
          remote: { url: 'https://mcp.example.com/mcp', headers: { 'X-Api-Key': 'k' } },
          legacy: { type: 'sse', url: 'https://old.example.com/sse' },
        },
      },
      {},
    );
    expect(config?.separator).toBe('__');
    expect(config?.maxChildren).toBe(64);
    expect(config?.maxChildrenPerKey).toBe(8);
    const [everything, remote, legacy] = config?.upstreams ?? [];
    expect(everything).toMatchObject({ kind: 'stdio', name: 'everything', command: 'npx', args: ['-y', '@modelcontextprotocol/server-everything'], env: {}, isolation: 'session', versionNegotiation: 'legacy' });
    expect(everything).toMatchObject({ poolSize: 1, spawnTimeoutMs: 30_000, callTimeoutMs: 60_000, maxConcurrency: 64, maxResultBytes: 4 * 1024 * 1024 });
    expect(remote).toMatchObject({ kind: 'remote', transport: 'streamable-http', isolation: 'shared', versionNegotiation: 'auto', allowInsecureTls: false, headers: { 'X-Api-Key': 'k' } });
    expect((legacy as RemoteUpstreamConfig).transport).toBe('sse');
    expect(Object.isFrozen(config)).toBe(true);
    expect(Object.isFrozen(everything)).toBe(true);
  });

  it('reads gateway.mcpServers with the gateway options and per-upstream keys (seconds become ms)', () => {
    const config = parseGatewayConfig(
      {
        gateway: {
          separator: '.',
          maxChildren: 10,
          maxChildrenPerKey: 2,
          mcpServers: {
            memory: { command: 'node', args: ['m.js'], cwd: '/tmp', isolation: 'shared', poolSize: 3, spawnTimeout: 2.5, callTimeout: 0.5, maxConcurrency: 4, maxResultBytes: 16384 },
            api: { url: 'http://127.0.0.1:9/mcp', transport: 'sse', isolation: 'session', allowInsecureTls: true, oauth: { tokenUrl: 'http://127.0.0.1:9/token', clientId: 'id', clientSecret: 's', scope: 'read' } },
          },
        },
      },
      {},
    );
    expect(config).toMatchObject({ separator: '.', maxChildren: 10, maxChildrenPerKey: 2 });
    expect(config?.upstreams[0]).toMatchObject({ isolation: 'shared', poolSize: 3, spawnTimeoutMs: 2500, callTimeoutMs: 500, maxConcurrency: 4, maxResultBytes: 16384, cwd: '/tmp' });
    expect(config?.upstreams[1]).toMatchObject({ transport: 'sse', isolation: 'session', allowInsecureTls: true, oauth: { tokenUrl: 'http://127.0.0.1:9/token', clientId: 'id', clientSecret: 's', scope: 'read' } });
  });

  it('returns undefined when no upstream is configured, and skips disabled ones', () => {
    expect(parseGatewayConfig({ port: 1 }, {})).toBeUndefined();
    const config = parseGatewayConfig({ mcpServers: { on: { command: 'a' }, off: { command: 'b', disabled: true } } }, {});
    expect(config?.upstreams.map((upstream) => upstream.name)).toEqual(['on']);
  });

  it('expands ${VAR} and ${VAR:-default} in args, env values, url, headers and oauth', () => {
    const env = { TOKEN: 'tok-123', DATA: '/srv/data', EMPTY: '' };
    const config = parseGatewayConfig(
      {
        mcpServers: {
          fs: { command: 'node', args: ['server.js', '${DATA}/in', '${MISSING:-/fallback}', '${EMPTY:-was-empty}', 'cost: $${NOT_A_REF}'], env: { GITHUB_TOKEN: '${TOKEN}', MODE: 'x-${EMPTY}-y' } },
          api: { url: 'https://${HOST:-api.example.com}/mcp', headers: { Authorization: 'Bearer ${TOKEN}' } },
          auth: { url: 'https://a.example.com/mcp', oauth: { tokenUrl: 'https://a.example.com/token', clientId: 'id', clientSecret: '${TOKEN}' } },
        },
      },
      env,
    );
    const [fs, api, auth] = config?.upstreams ?? [];
    expect((fs as StdioUpstreamConfig).args).toEqual(['server.js', '/srv/data/in', '/fallback', 'was-empty', 'cost: ${NOT_A_REF}']);
    expect((fs as StdioUpstreamConfig).env).toEqual({ GITHUB_TOKEN: 'tok-123', MODE: 'x--y' });
    expect((api as RemoteUpstreamConfig).url).toBe('https://api.example.com/mcp');
    expect((api as RemoteUpstreamConfig).headers).toEqual({ Authorization: 'Bearer tok-123' });
    expect((auth as RemoteUpstreamConfig).oauth?.clientSecret).toBe('tok-123');
  });

  it('an unset variable without default is an error naming the upstream, the key and the variable', () => {
    const problems = problemsOf({ mcpServers: { github: { command: 'gh-mcp', env: { GITHUB_TOKEN: '${GITHUB_TOKEN}' } }, api: { url: 'https://x.example.com/mcp', headers: { 'X-Key': '${API_KEY}' } } } });
    expect(problems).toEqual([
      'mcpServers.github.env.GITHUB_TOKEN: environment variable GITHUB_TOKEN is not set (use ${GITHUB_TOKEN:-default} for a default)',
      'mcpServers.api.headers.X-Key: environment variable API_KEY is not set (use ${API_KEY:-default} for a default)',
    ]);
  });

  it('never puts an expanded value in an error', () => {
    const secret = 'sk-live-SECRET-VALUE-0123456789';
    const problems = problemsOf(
      {
        mcpServers: {
          bad_url: { url: '${SECRET}' },
          bad_header: { url: 'https://x.example.com', headers: { 'X-Key': 'a\n${SECRET}' } },
          bad_token_url: { url: 'https://x.example.com', oauth: { tokenUrl: 'http://${SECRET}.example.com/token', clientId: 'c', clientSecret: '${SECRET}' } },
        },
      },
      { SECRET: secret },
    );
    expect(problems).toEqual([
      'mcpServers.bad_url.url: not a valid URL',
      'mcpServers.bad_header.headers.X-Key: contains a line break or NUL',
      'mcpServers.bad_token_url.oauth.tokenUrl: must be https (it receives the client secret)',
    ]);
    expect(problems.join('\n')).not.toContain('SECRET-VALUE');
  });

  it('rejects bad names, unknown keys, both or neither of command/url, bad values and both mcpServers places', () => {
    const problems = problemsOf({
      gateway: { mcpServers: {}, maxChildren: 2, maxChildrenPerKey: 3, colour: 'red' },
      mcpServers: {
        'bad name': { command: 'x' },
        ['a'.repeat(65)]: { command: 'x' },
        both: { command: 'x', url: 'https://x.example.com' },
        neither: { args: [] },
        typo: { command: 'x', isolaton: 'shared' },
        values: { command: '', isolation: 'pooled', poolSize: 0, callTimeout: -1, maxResultBytes: 10, args: 'a b' },
        remote: { url: 'ftp://x.example.com', transport: 'websocket' },
        creds: { url: 'https://user:pw@x.example.com/mcp' },
        cross: { url: 'https://x.example.com', type: 'sse', transport: 'streamable-http' },
        a__b: { command: 'x' },
      },
    });
    expect(problems).toEqual([
      'gateway: unknown key(s) "colour"',
      'config: give "mcpServers" or "gateway.mcpServers", not both',
      'mcpServers: "bad name" is not a valid name (1 to 64 of A-Z a-z 0-9 _ -)',
      `mcpServers: "${'a'.repeat(64)}" is not a valid name (1 to 64 of A-Z a-z 0-9 _ -)`,
      'mcpServers.both: give either "command" (a stdio server) or "url" (a remote server)',
      'mcpServers.neither: give either "command" (a stdio server) or "url" (a remote server)',
      'mcpServers.typo: unknown key(s) "isolaton"',
      'mcpServers.values.command: must not be empty',
      'mcpServers.values.args: expected an array of strings',
      'mcpServers.values.isolation: expected "session" or "shared"',
      'mcpServers.values.poolSize: expected an integer from 1 to 64',
      'mcpServers.values.callTimeout: expected seconds from 0.01 to 3600',
      'mcpServers.values.maxResultBytes: expected an integer from 16384 to 268435456',
      'mcpServers.remote.transport: expected "streamable-http" or "sse"',
      'mcpServers.creds.url: credentials in the URL are not allowed (use headers or oauth)',
      'mcpServers.cross: "type" and "transport" disagree',
      'mcpServers.a__b: the name contains the separator "__" (names would be ambiguous)',
      'gateway.maxChildrenPerKey: must not exceed gateway.maxChildren',
    ]);
  });

  it('rejects a non-http URL, Authorization together with oauth, and a malformed reference', () => {
    expect(problemsOf({ mcpServers: { r: { url: 'ftp://x.example.com' } } })).toEqual(['mcpServers.r.url: expected an http or https URL']);
    expect(problemsOf({ mcpServers: { r: { url: 'https://x.example.com', headers: { authorization: 'Bearer a' }, oauth: { tokenUrl: 'https://x.example.com/t', clientId: 'c', clientSecret: 's' } } } })).toEqual([
      'mcpServers.r: give "headers.Authorization" or "oauth", not both',
    ]);
    expect(problemsOf({ mcpServers: { s: { command: 'x', args: ['${OPEN', '${1BAD}'] } } })).toEqual([
      'mcpServers.s.args.0: unterminated "${" (write "$${" for a literal)',
      'mcpServers.s.args.1: "${1BAD}" is not a variable name',
    ]);
  });
});

describe('expand', () => {
  it('leaves strings without references alone and substitutes several in one string', () => {
    const problems: string[] = [];
    expect(expand('plain $HOME text', {}, 'k', problems)).toBe('plain $HOME text');
    expect(expand('${A}-${B:-b}-${A}', { A: 'a' }, 'k', problems)).toBe('a-b-a');
    expect(problems).toEqual([]);
  });
});

/**
 * Configuration: precedence (flag > env > values > file > default), key sources combined,
 * every bad option reported at once, the secure-by-default rules, file handling.
 */

import { chmodSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ConfigError, configFromValues, loadConfig } from '../../src/config/load.js';

const KEY_A = 'aaaaaaaaaaaaaaaaaaaaaaaa';
const KEY_B = 'bbbbbbbbbbbbbbbbbbbbbbbb';
const KEY_C = 'cccccccccccccccccccccccc';

function tempFile(content: string, mode = 0o600): string {
  const path = join(mkdtempSync(join(tmpdir(), 'warden-config-')), 'config.json');
  writeFileSync(path, content);
  chmodSync(path, mode);
  return path;
}

function problems(run: () => unknown): readonly string[] {
  try {
    run();
  } catch (error) {
    if (error instanceof ConfigError) return error.problems;
    throw error;
  }
  throw new Error('expected a ConfigError');
}

describe('loadConfig', () => {
  it('has secure defaults', () => {
    const config = loadConfig();
    expect(config).toMatchObject({
      host: '127.0.0.1',
      port: 8443,
      apiKeys: [],
      rateLimit: 100,
      rateWindow: 60,
      trustProxy: { kind: 'none' },
      corsOrigins: [],
      logLevel: 'info',
      monitoring: true,
      bodyLimit: 1048576,
      stateless: false,
    });
    expect(Object.isFrozen(config)).toBe(true);
  });

  it('takes flags over env over file over defaults', () => {
    const file = tempFile(JSON.stringify({ port: 1111, rateLimit: 7, logLevel: 'warn', rateWindow: 30 }));
    const config = loadConfig({ flags: { port: '3333' }, env: { PORT: '2222', MCP_RATE_LIMIT: '8' }, configFile: file });
    expect(config.port).toBe(3333);
    expect(config.rateLimit).toBe(8);
    expect(config.logLevel).toBe('warn');
    expect(config.rateWindow).toBe(30);
    expect(config.configFile).toBe(file);
  });

  it('reads the config file named by MCP_CONFIG', () => {
    const file = tempFile(JSON.stringify({ rateWindow: 15 }));
    expect(loadConfig({ env: { MCP_CONFIG: file } }).rateWindow).toBe(15);
  });

  it('combines API keys from flags, MCP_API_KEYS and the file, without duplicates', () => {
    const file = tempFile(JSON.stringify({ apiKeys: [KEY_C, KEY_A] }));
    const config = loadConfig({ flags: { apiKeys: [KEY_A] }, env: { MCP_API_KEYS: ` ${KEY_B} ,${KEY_A}` }, configFile: file });
    expect([...config.apiKeys].sort()).toEqual([KEY_A, KEY_B, KEY_C]);
  });

  it('accepts the seed-style environment (uppercase log level, comma lists, booleans)', () => {
    const config = loadConfig({
      env: { MCP_LOG_LEVEL: 'INFO', MCP_ENABLE_MONITORING: 'false', MCP_CORS_ORIGINS: 'https://a.example,https://b.example:8443', PORT: '8443' },
    });
    expect(config.logLevel).toBe('info');
    expect(config.monitoring).toBe(false);
    expect(config.corsOrigins).toEqual(['https://a.example', 'https://b.example:8443']);
  });

  it('parses --trust-proxy as a hop count or CIDR list and refuses "true"', () => {
    expect(loadConfig({ flags: { trustProxy: '2' } }).trustProxy).toEqual({ kind: 'hops', hops: 2 });
    expect(loadConfig({ flags: { trustProxy: '10.0.0.0/8, fd00::/8,loopback' } }).trustProxy).toEqual({
      kind: 'addresses',
      ranges: ['10.0.0.0/8', 'fd00::/8', 'loopback'],
    });
    expect(problems(() => loadConfig({ flags: { trustProxy: 'true' } }))[0]).toMatch(/--trust-proxy: .*"true" \(trust everyone\) is refused/);
    expect(problems(() => loadConfig({ flags: { trustProxy: '10.0.0.0/33' } }))[0]).toMatch(/--trust-proxy/);
  });

  it('lists every bad option in one error, naming where each came from', () => {
    const file = tempFile(JSON.stringify({ bodyLimit: 'big', color: 'blue' }));
    const list = problems(() =>
      loadConfig({
        flags: { port: '99999', corsOrigin: undefined, corsOrigins: ['*'] },
        env: { MCP_RATE_LIMIT: 'lots', MCP_LOG_LEVEL: 'chatty', MCP_ENABLE_MONITORING: 'maybe' },
        configFile: file,
      }),
    );
    expect(list).toEqual(
      expect.arrayContaining([
        expect.stringMatching(/^--port: expected an integer from 0 to 65535$/),
        expect.stringMatching(/^MCP_RATE_LIMIT \(environment\): expected an integer/),
        expect.stringMatching(/^--cors-origin: .*"\*" is refused/),
        expect.stringMatching(/^MCP_LOG_LEVEL \(environment\): expected one of/),
        expect.stringMatching(/^MCP_ENABLE_MONITORING \(environment\): expected true or false$/),
        expect.stringMatching(/^"bodyLimit" in .*config\.json: expected an integer/),
        expect.stringMatching(/unknown option "color"/),
      ]),
    );
    expect(list).toHaveLength(7);
  });

  it('rejects weak or malformed keys without echoing them', () => {
    const list = problems(() => loadConfig({ flags: { apiKeys: ['short'] }, env: { MCP_API_KEYS: 'has space in it 1234567890' } }));
    expect(list).toHaveLength(2);
    expect(list.join('\n')).not.toContain('short');
    expect(list.join('\n')).not.toContain('has space');
  });

  it('--env-keys requires MCP_API_KEYS', () => {
    expect(problems(() => loadConfig({ flags: { envKeys: true }, env: {} }))).toEqual(['--env-keys: MCP_API_KEYS is empty or unset']);
    expect(loadConfig({ flags: { envKeys: true }, env: { MCP_API_KEYS: KEY_A } }).apiKeys).toEqual([KEY_A]);
  });

  it('refuses a non-loopback host without any key', () => {
    expect(problems(() => loadConfig({ flags: { host: '0.0.0.0' } }))[0]).toMatch(/refusing to serve a non-loopback address without an API key/);
    expect(loadConfig({ flags: { host: '0.0.0.0' }, env: { MCP_API_KEYS: KEY_A } }).host).toBe('0.0.0.0');
    expect(loadConfig({ flags: { host: '::1' } }).host).toBe('::1');
  });

  it('reports unreadable and invalid config files', () => {
    expect(problems(() => loadConfig({ configFile: '/nonexistent/warden.json' }))).toEqual(['config file /nonexistent/warden.json: cannot be read']);
    expect(problems(() => loadConfig({ configFile: tempFile('{ not json') }))[0]).toMatch(/not valid JSON$/);
    expect(problems(() => loadConfig({ configFile: tempFile('[1]') }))[0]).toMatch(/expected a JSON object$/);
  });

  it('warns about keys on the command line and in a world-readable file', () => {
    expect(loadConfig({ flags: { apiKeys: [KEY_A] } }).warnings[0]).toMatch(/visible in process listings/);
    const open = tempFile(JSON.stringify({ apiKeys: [KEY_A] }), 0o644);
    expect(loadConfig({ configFile: open }).warnings[0]).toMatch(/readable by other users/);
    const closed = tempFile(JSON.stringify({ apiKeys: [KEY_A] }), 0o600);
    expect(loadConfig({ configFile: closed }).warnings).toEqual([]);
  });

  it('requires a shared secret with --redis-url, from the environment or a file, never echoed', () => {
    const secret = 's'.repeat(40);
    const redis = { redisUrl: 'redis://127.0.0.1:6379' };
    expect(problems(() => loadConfig({ flags: redis }))).toEqual([expect.stringMatching(/^--redis-url needs a shared secret .*MCP_SHARED_SECRET/)]);
    expect(loadConfig({ flags: redis, env: { MCP_SHARED_SECRET: secret } }).redis?.sharedSecret).toBe(secret);
    const file = tempFile(`${secret}\n`);
    const fromFile = loadConfig({ flags: { ...redis, sharedSecretFile: file }, env: { MCP_SHARED_SECRET_PREVIOUS_FILE: tempFile('p'.repeat(32)) } });
    expect(fromFile.redis?.sharedSecret).toBe(secret);
    expect(fromFile.redis?.sharedSecretPrevious).toBe('p'.repeat(32));
    const short = problems(() => loadConfig({ flags: redis, env: { MCP_SHARED_SECRET: 'short-secret-value' } }));
    expect(short[0]).toBe('MCP_SHARED_SECRET (environment): expected at least 32 characters (use `mcp-warden keygen`)');
    expect(short.join('\n')).not.toContain('short-secret-value');
    expect(problems(() => loadConfig({ flags: { ...redis, sharedSecretFile: file }, env: { MCP_SHARED_SECRET: secret } }))).toContain('--shared-secret-file and MCP_SHARED_SECRET are both set; give one');
    expect(problems(() => loadConfig({ flags: { ...redis, sharedSecretFile: '/nonexistent/secret' } }))).toContain('shared secret file /nonexistent/secret: cannot be read');
    expect(problems(() => loadConfig({ env: { MCP_SHARED_SECRET_PREVIOUS: secret } }))).toContain('MCP_SHARED_SECRET_PREVIOUS needs MCP_SHARED_SECRET (the secret that replaces it)');
  });

  it('--request-state-ttl: 600 s by default, 1 to 3600; the shared secret (and its previous) seal request state, with or without Redis', () => {
    expect(loadConfig().requestState).toEqual({ ttl: 600, secret: undefined, previousSecret: undefined });
    expect(loadConfig({ flags: { requestStateTtl: '3600' } }).requestState.ttl).toBe(3600);
    expect(loadConfig({ env: { MCP_REQUEST_STATE_TTL: '30' } }).requestState.ttl).toBe(30);
    expect(problems(() => loadConfig({ flags: { requestStateTtl: '3601' } }))).toEqual(['--request-state-ttl: expected an integer from 1 to 3600']);
    expect(problems(() => loadConfig({ env: { MCP_REQUEST_STATE_TTL: '0' } }))).toEqual(['MCP_REQUEST_STATE_TTL (environment): expected an integer from 1 to 3600']);
    const secret = 's'.repeat(40);
    const previous = 'p'.repeat(40);
    expect(loadConfig({ env: { MCP_SHARED_SECRET: secret, MCP_SHARED_SECRET_PREVIOUS: previous } }).requestState).toEqual({ ttl: 600, secret, previousSecret: previous });
  });

  it('--oauth-issuer: an https origin (http on loopback), normalised, defaulting --public-url; excludes --jwt-jwks-url', () => {
    const config = loadConfig({ flags: { oauthIssuer: 'https://mcp.example.com/', oauthKeyFile: '/var/lib/mcp-warden/oauth-keys.json' } });
    expect(config.authorizationServer).toEqual({ issuer: 'https://mcp.example.com', keyFile: '/var/lib/mcp-warden/oauth-keys.json', scopePrefix: 'mcp:', clientDocuments: { allowLoopback: false } });
    expect(config.publicUrl).toBe('https://mcp.example.com');
    expect(loadConfig({ env: { MCP_OAUTH_ISSUER: 'http://127.0.0.1:8080' } }).authorizationServer?.issuer).toBe('http://127.0.0.1:8080');
    expect(loadConfig().authorizationServer).toBeUndefined();
    const refused = 'expected the public https origin of this server, without path, query or fragment (http only for loopback hosts)';
    for (const issuer of ['http://mcp.example.com', 'https://mcp.example.com/tenant', 'https://mcp.example.com/?x=1', 'ftp://mcp.example.com', 'not a url']) {
      expect(problems(() => loadConfig({ flags: { oauthIssuer: issuer } })), issuer).toEqual([`--oauth-issuer: ${refused}`]);
    }
    expect(problems(() => loadConfig({ flags: { oauthIssuer: 'https://mcp.example.com', jwtJwksUrl: 'https://auth.example.com/jwks', jwtIssuer: 'https://auth.example.com' } }))).toContain(
      '--oauth-issuer and --jwt-jwks-url exclude each other: mcp-warden is either its own authorization server or trusts another one',
    );
    expect(problems(() => loadConfig({ flags: { oauthKeyFile: '/tmp/k.json' } }))).toEqual(['--oauth-key-file has no effect without --oauth-issuer']);
    expect(problems(() => loadConfig({ flags: { oauthIssuer: 'https://mcp.example.com', publicUrl: 'https://other.example.com' } }))).toEqual([
      '--oauth-issuer must be the origin of --public-url (tokens are issued for <issuer>/mcp)',
    ]);
  });

  it('Client ID Metadata Documents: on with --oauth-issuer, off with --no-oauth-cimd; the loopback allowance and CA file need them, and the allowance is warned about', () => {
    const issuer = 'https://mcp.example.com';
    expect(loadConfig({ flags: { oauthIssuer: issuer } }).authorizationServer?.clientDocuments).toEqual({ allowLoopback: false, caFile: undefined });
    expect(loadConfig({ flags: { oauthIssuer: issuer, oauthCimd: false } }).authorizationServer?.clientDocuments).toBeUndefined();
    expect(loadConfig({ flags: { oauthIssuer: issuer }, env: { MCP_OAUTH_CIMD: 'off' } }).authorizationServer?.clientDocuments).toBeUndefined();
    const testing = loadConfig({ flags: { oauthIssuer: issuer, oauthCimdAllowLoopback: true, oauthCimdCaFile: '/tmp/ca.pem' } });
    expect(testing.authorizationServer?.clientDocuments).toEqual({ allowLoopback: true, caFile: '/tmp/ca.pem' });
    expect(testing.warnings.some((warning) => warning.includes('--oauth-cimd-allow-loopback is on') && warning.includes('FOR TESTS ONLY'))).toBe(true);
    expect(loadConfig({ flags: { oauthIssuer: issuer } }).warnings).toEqual([]);
    const needs = '--oauth-cimd-allow-loopback and --oauth-cimd-ca-file need --oauth-issuer with Client ID Metadata Documents on';
    expect(problems(() => loadConfig({ flags: { oauthCimdAllowLoopback: true } }))).toContain(needs);
    expect(problems(() => loadConfig({ flags: { oauthIssuer: issuer, oauthCimd: false, oauthCimdCaFile: '/tmp/ca.pem' } }))).toContain(needs);
  });

  it('--oauth-upstream-*: OpenID Connect sign-in needs --oauth-issuer, a client id, a secret (environment or file, never a flag) and rules', () => {
    const secret = 'upstream-secret-value';
    const base = { oauthIssuer: 'https://mcp.example.com', oauthUpstreamIssuer: 'https://login.example.com/realms/team/', oauthUpstreamClientId: 'mcp-warden', oauthUpstreamRules: '/etc/mcp-warden/rules.json' };
    const config = loadConfig({ flags: base, env: { MCP_OAUTH_UPSTREAM_CLIENT_SECRET: secret } });
    expect(config.authorizationServer?.upstream).toEqual({
      issuer: 'https://login.example.com/realms/team',
      clientId: 'mcp-warden',
      clientSecret: secret,
      rulesFile: '/etc/mcp-warden/rules.json',
      groupsClaim: 'groups',
      scopes: ['openid', 'email'],
    });
    expect(loadConfig({ flags: { ...base, oauthUpstreamClientSecretFile: tempFile(`${secret}\n`) } }).authorizationServer?.upstream?.clientSecret).toBe(secret);
    expect(loadConfig({ flags: { oauthIssuer: 'https://mcp.example.com' } }).authorizationServer?.upstream).toBeUndefined();
    expect(problems(() => loadConfig({ flags: { ...base, oauthIssuer: undefined }, env: { MCP_OAUTH_UPSTREAM_CLIENT_SECRET: secret } }))).toEqual([
      '--oauth-upstream-issuer needs --oauth-issuer (mcp-warden is the authorization server the clients see)',
    ]);
    expect(problems(() => loadConfig({ flags: { oauthIssuer: base.oauthIssuer, oauthUpstreamIssuer: base.oauthUpstreamIssuer } }))).toEqual([
      '--oauth-upstream-issuer needs --oauth-upstream-client-id',
      '--oauth-upstream-issuer needs MCP_OAUTH_UPSTREAM_CLIENT_SECRET or --oauth-upstream-client-secret-file',
      '--oauth-upstream-issuer needs --oauth-upstream-rules (who gets which scopes)',
    ]);
    const both = problems(() => loadConfig({ flags: { ...base, oauthUpstreamClientSecretFile: tempFile(secret) }, env: { MCP_OAUTH_UPSTREAM_CLIENT_SECRET: secret } }));
    expect(both).toContain('--oauth-upstream-client-secret-file and MCP_OAUTH_UPSTREAM_CLIENT_SECRET are both set; give one');
    expect(both.join('\n')).not.toContain(secret);
    expect(problems(() => loadConfig({ flags: { oauthUpstreamClientId: 'x' } }))).toEqual(['the --oauth-upstream-* options have no effect without --oauth-upstream-issuer']);
    for (const issuer of ['http://login.example.com', 'https://login.example.com/?tenant=1', 'not a url']) {
      expect(problems(() => loadConfig({ flags: { ...base, oauthUpstreamIssuer: issuer }, env: { MCP_OAUTH_UPSTREAM_CLIENT_SECRET: secret } }))[0], issuer).toMatch(/^--oauth-upstream-issuer: expected the provider's https issuer URL/);
    }
    expect(problems(() => loadConfig({ flags: { ...base, oauthUpstreamScopes: 'email,groups' }, env: { MCP_OAUTH_UPSTREAM_CLIENT_SECRET: secret } }))).toEqual(['--oauth-upstream-scopes: expected the list to include openid']);
  });

  it('validates options given in code', () => {
    expect(configFromValues({ port: 0, apiKeys: [KEY_A] }).port).toBe(0);
    expect(problems(() => configFromValues({ port: -1 }))[0]).toBe('option port: expected an integer from 0 to 65535');
  });
});

/**
 * The `mcp-warden` command as users run it (the built `dist/cli/main.js` in a child process):
 * key generation, configuration errors (exit 2), the secure-by-default rules, seed-style
 * invocations, and graceful shutdown on SIGTERM/SIGINT.
 */

import { afterEach, describe, expect, it } from 'vitest';
import { runCli, serveCli, type CommandResult, type ServedCli } from '../helpers/cli.js';
import { apiStatus, mcpHeaders, send } from '../helpers/http.js';
import { sleep } from '../helpers/wait.js';

const KEY = 'cli-test-key-0123456789abcdefghijklmn';
const children: ServedCli[] = [];

function run(args: string[], env: Record<string, string> = {}): CommandResult {
  return runCli(args, { env });
}

async function serve(args: string[], env: Record<string, string> = {}): Promise<ServedCli> {
  const served = await serveCli(args, env);
  children.push(served);
  return served;
}

afterEach(() => {
  for (const served of children.splice(0)) if (served.child.exitCode === null) served.child.kill('SIGKILL');
});

describe('mcp-warden keygen', () => {
  it('prints one 32-byte base64url key and nothing else', () => {
    for (const args of [['keygen'], ['--generate-key']]) {
      const result = run(args);
      expect(result.status).toBe(0);
      expect(result.stdout).toMatch(/^[A-Za-z0-9_-]{43}\n$/);
      expect(result.stderr).toBe('');
    }
  });
});

describe('configuration errors', () => {
  it('exit 2 with one message naming every bad option and no stack trace', () => {
    const result = run(['--port', 'abc', '--rate-limit', '0', '--log-level', 'loud', '--cors-origin', '*'], { MCP_RATE_WINDOW: '-5' });
    expect(result.status).toBe(2);
    expect(result.stderr).toContain('Invalid configuration');
    for (const option of ['--port', '--rate-limit', '--log-level', '--cors-origin', 'MCP_RATE_WINDOW']) expect(result.stderr).toContain(option);
    expect(result.stderr).not.toMatch(/\n\s+at /);
  });

  it('an unknown flag exits 2', () => {
    expect(run(['--no-such-flag']).status).toBe(2);
  });

  it('refuses a non-loopback host without a key', () => {
    const result = run(['--host', '0.0.0.0']);
    expect(result.status).toBe(2);
    expect(result.stderr).toMatch(/refusing to serve a non-loopback address without an API key/);
  });

  it('--env-keys without MCP_API_KEYS exits 2', () => {
    const result = run(['--env-keys']);
    expect(result.status).toBe(2);
    expect(result.stderr).toContain('MCP_API_KEYS is empty or unset');
  });

  it('top-level --help lists the server options, --generate-key, and examples that keep keys out of argv', () => {
    const result = run(['--help']);
    expect(result.status).toBe(0);
    // Help wraps at 80 columns: compare with whitespace runs collapsed.
    const [commands, serverOptions] = result.stdout.replace(/\s+/g, ' ').split('Server options (mcp-warden [serve] [options]):');
    expect(commands).toContain('keygen');
    for (const text of ['--port <number>', '--api-key <key>', '(env MCP_API_KEYS)', '--env-keys', '--keys-file <file>', '--rate-limit <n>', '--config <file>', '--generate-key']) {
      expect(serverOptions, text).toContain(text);
    }
    const examples = result.stdout.slice(result.stdout.indexOf('Examples'));
    expect(examples).toContain('MCP_API_KEYS="$(mcp-warden keygen)"');
    // No example passes a key on the command line.
    expect(examples).not.toMatch(/--api-key/);
    expect(run(['help']).stdout).toBe(result.stdout);
  });

  it('--help lists the options with their environment variables', () => {
    const result = run(['serve', '--help']);
    expect(result.status).toBe(0);
    for (const text of ['--api-key', '(env MCP_API_KEYS)', '--rate-limit', '(env MCP_RATE_LIMIT)', '--trust-proxy', '--cors-origin', '--env-keys']) {
      expect(result.stdout.replace(/\s+/g, ' ')).toContain(text);
    }
  });
});

describe('serving', () => {
  it('with no key on loopback: generates a one-time key, prints it once with a client config, and it works', async () => {
    const served = await serve([]);
    const banner = served.stderr();
    const key = /^ {2}([A-Za-z0-9_-]{43})$/m.exec(banner)?.[1];
    expect(key).toBeDefined();
    expect(banner).toContain('"Authorization": "Bearer ');
    expect(banner).toContain(`${served.url}/mcp`);
    const ok = await apiStatus(served, key as string);
    expect(ok.status).toBe(200);
    expect(ok.json()).toMatchObject({ config: { auth: { oneTimeKey: true, apiKeys: 1 } } });
    expect(served.stdout()).not.toContain(key as string);
    served.child.kill('SIGTERM');
    expect(await served.exit()).toBe(0);
  });

  it('seed-style: --api-key K and --port', async () => {
    const served = await serve(['--api-key', KEY]);
    expect((await apiStatus(served, KEY)).status).toBe(200);
    expect((await apiStatus(served, 'another-key-0123456789')).status).toBe(401);
    expect(served.stderr()).not.toContain('one-time key');
    expect(served.stdout()).toContain('visible in process listings');
    expect(served.stdout()).not.toContain(KEY);
    served.child.kill('SIGTERM');
    expect(await served.exit()).toBe(0);
  });

  it('seed-style: MCP_API_KEYS=k1,k2 with --env-keys', async () => {
    const second = 'second-key-0123456789abcdefghij';
    const served = await serve(['--env-keys'], { MCP_API_KEYS: `${KEY},${second}`, MCP_LOG_LEVEL: 'INFO' });
    for (const key of [KEY, second]) {
      expect((await apiStatus(served, key)).status).toBe(200);
    }
    served.child.kill('SIGINT');
    expect(await served.exit()).toBe(0);
  });

  it('a port in use is reported clearly with exit 1', async () => {
    const served = await serve(['--api-key', KEY]);
    const port = new URL(served.url).port;
    const result = run(['--api-key', KEY, '--port', port]);
    expect(result.status).toBe(1);
    expect(result.stderr).toContain(`port ${port} is already in use`);
    expect(result.stderr).not.toMatch(/\n\s+at /);
    served.child.kill('SIGTERM');
    await served.exit();
  });

  it('SIGTERM with an open GET stream: stops within the deadline, logs it, exits 0', async () => {
    const served = await serve(['--api-key', KEY, '--shutdown-timeout', '5']);
    const init = await send(`${served.url}/mcp`, {
      method: 'POST',
      headers: mcpHeaders(KEY),
      body: JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'initialize', params: { protocolVersion: '2025-11-25', capabilities: {}, clientInfo: { name: 't', version: '1' } } }),
    });
    const sessionId = init.headers['mcp-session-id'] as string;
    const stream = send(`${served.url}/mcp`, {
      method: 'GET',
      headers: { authorization: `Bearer ${KEY}`, accept: 'text/event-stream', 'mcp-session-id': sessionId, 'mcp-protocol-version': '2025-11-25' },
    });
    await sleep(200);
    const started = Date.now();
    served.child.kill('SIGTERM');
    expect(await served.exit()).toBe(0);
    expect(Date.now() - started).toBeLessThan(4000);
    expect((await stream).status).toBe(200);
    expect(served.stdout()).toContain('"msg":"shutting down"');
    expect(served.stdout()).toContain('"msg":"mcp-warden stopped"');
  });
});

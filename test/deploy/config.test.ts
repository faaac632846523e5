/**
 * The generated config is one the server accepts (and refuses without a key), every
 * platform's trust-proxy value parses, no key ever lands in a generated file, and the
 * Dockerfile's health check passes against a real server started from the generated config.
 */

import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { request } from 'node:http';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from '../../src/config/load.js';
import { createServer } from '../../src/server.js';
import { startRedis } from '../helpers/redis.js';
import { deploy, KNOWN_KEY, readTree, removeTempRoots, yamlDocuments, type Json } from './helpers.js';

afterAll(removeTempRoots);

function configPath(root: string): string {
  return join(root, 'deploy', 'mcp-warden.config.json');
}

describe('mcp-warden.config.json', () => {
  it('is accepted by loadConfig with a key in MCP_API_KEYS, and pins the domain', async () => {
    expect(KNOWN_KEY).toHaveLength(43);
    const run = await deploy({ domain: 'mcp.example.com' });
    expect(run.code).toBe(0);
    const config = loadConfig({ configFile: configPath(run.root), env: { MCP_API_KEYS: KNOWN_KEY } });
    expect(config.host).toBe('0.0.0.0');
    expect(config.port).toBe(8443);
    expect(config.allowedHosts).toEqual(['mcp.example.com']);
    expect(config.publicUrl).toBe('https://mcp.example.com');
    expect(config.corsOrigins).toEqual([]);
    expect(config.apiKeys).toEqual([KNOWN_KEY]);
    expect(config.trustProxy).toEqual({ kind: 'none' });
  });

  it('holds no keys and no per-platform setting, and leaves Host and public URL out without --domain', async () => {
    const run = await deploy({});
    const raw = JSON.parse(readTree(join(run.root, 'deploy')).get('mcp-warden.config.json') as string) as Record<string, unknown>;
    for (const key of ['apiKeys', 'envKeys', 'trustProxy', 'allowedHosts', 'publicUrl']) expect(raw).not.toHaveProperty(key);
    expect(raw['host']).toBe('0.0.0.0');
    expect(loadConfig({ configFile: configPath(run.root), env: { MCP_API_KEYS: KNOWN_KEY } }).allowedHosts).toEqual([]);
  });

  it('makes the server refuse to start without a key (non-loopback bind)', async () => {
    const run = await deploy({});
    let error: unknown;
    try {
      loadConfig({ configFile: configPath(run.root), env: {} });
    } catch (caught) {
      error = caught;
    }
    expect(error).toBeInstanceOf(ConfigError);
    expect((error as ConfigError).problems.join('\n')).toContain('refusing to serve a non-loopback address without an API key');
  });
});

describe('trust-proxy per platform', () => {
  it('every MCP_TRUST_PROXY the manifests set is a hop count the server accepts', async () => {
    const run = await deploy({});
    const files = readTree(join(run.root, 'deploy'));
    const k8s = yamlDocuments(files.get('kubernetes/mcp-warden.yaml') as string).find((document) => document.kind === 'Deployment');
    const run_ = yamlDocuments(files.get('cloud-run/service.yaml') as string)[0];
    const values = {
      kubernetes: (k8s.spec.template.spec.containers[0].env as Json[]).find((variable) => variable.name === 'MCP_TRUST_PROXY').value,
      cloudRun: (run_.spec.template.spec.containers[0].env as Json[]).find((variable) => variable.name === 'MCP_TRUST_PROXY').value,
      herokuApp: (JSON.parse(files.get('heroku/app.json') as string) as Json).env.MCP_TRUST_PROXY.value,
      herokuProcfile: /MCP_TRUST_PROXY=\$\{MCP_TRUST_PROXY:-(\d+)\}/.exec(files.get('heroku/Procfile') as string)?.[1],
      render: (yamlDocuments(files.get('railway/render.yaml') as string)[0].services[0].envVars as Json[]).find((variable) => variable.key === 'MCP_TRUST_PROXY').value,
      startScript: /MCP_TRUST_PROXY="\$\{MCP_TRUST_PROXY:-(\d+)\}"/.exec(files.get('railway/start.sh') as string)?.[1],
    };
    for (const [platform, value] of Object.entries(values)) {
      expect(value, platform).toBe('1');
      const config = loadConfig({ configFile: configPath(run.root), env: { MCP_API_KEYS: KNOWN_KEY, MCP_TRUST_PROXY: value as string } });
      expect(config.trustProxy, platform).toEqual({ kind: 'hops', hops: 1 });
    }
    // Plain Docker has no known proxy: nothing is trusted unless the operator says so.
    expect(files.get('Dockerfile')).not.toContain('MCP_TRUST_PROXY');
  });
});

describe('keys are never written', () => {
  it('no generated file contains the key in MCP_API_KEYS, whatever the options', async () => {
    const saved = process.env['MCP_API_KEYS'];
    process.env['MCP_API_KEYS'] = KNOWN_KEY;
    try {
      for (const options of [{}, { domain: 'mcp.example.com', replicas: '4' }, { platform: 'heroku' }]) {
        const run = await deploy(options);
        expect(run.code).toBe(0);
        const files = readTree(join(run.root, 'deploy'));
        expect(files.size).toBeGreaterThan(3);
        for (const [path, text] of files) expect(text.includes(KNOWN_KEY), path).toBe(false);
        expect(run.stdout).not.toContain(KNOWN_KEY);
        expect(run.stderr).not.toContain(KNOWN_KEY);
      }
    } finally {
      if (saved === undefined) delete process.env['MCP_API_KEYS'];
      else process.env['MCP_API_KEYS'] = saved;
    }
  });

  it('every secret slot in the manifests is a reference or empty, never a literal', async () => {
    const run = await deploy({ replicas: '2' });
    const files = readTree(join(run.root, 'deploy'));
    const k8s = yamlDocuments(files.get('kubernetes/mcp-warden.yaml') as string).find((document) => document.kind === 'Deployment');
    for (const name of ['MCP_API_KEYS', 'MCP_REDIS_URL', 'MCP_SHARED_SECRET']) {
      const variable = (k8s.spec.template.spec.containers[0].env as Json[]).find((entry) => entry.name === name);
      expect(variable.value, name).toBeUndefined();
      expect(variable.valueFrom.secretKeyRef.name, name).toBe('mcp-warden-api-keys');
    }
    expect(yamlDocuments(files.get('kubernetes/secret.template.yaml') as string)[0].stringData).toEqual({ MCP_API_KEYS: '', MCP_REDIS_URL: '', MCP_SHARED_SECRET: '' });
  });
});

describe('the Dockerfile health check', () => {
  /** Runs the check in a child process (async: the server answers from this process's event loop). */
  function runCheck(args: readonly string[], port: string): Promise<number | null> {
    return new Promise((resolve) => {
      const child = execFile(process.execPath, args, { env: { PORT: port }, timeout: 10_000 }, () => resolve(child.exitCode));
    });
  }

  /** GET with an explicit Host header (fetch cannot set one), as a kubelet probing the pod IP sends. */
  function statusWithHost(url: URL, path: string, host: string): Promise<number | undefined> {
    return new Promise((resolve, reject) => {
      const req = request({ host: url.hostname, port: url.port, path, headers: { host } }, (res) => {
        res.resume();
        resolve(res.statusCode);
      });
      req.on('error', reject);
      req.end();
    });
  }

  function healthCheck(dockerfile: string): string[] {
    const line = dockerfile.split('\n').find((candidate) => candidate.startsWith('HEALTHCHECK ')) as string;
    return JSON.parse(line.slice(line.indexOf('CMD ') + 4)) as string[];
  }

  it('passes against a server started from the generated config with the Host pinned, and fails when nothing listens', async () => {
    const run = await deploy({ domain: 'mcp.example.com' });
    const [node, flag, script] = healthCheck(readTree(join(run.root, 'deploy')).get('Dockerfile') as string);
    expect(node).toBe('node');
    // The production config, bound to loopback on a free port for the test.
    const config = loadConfig({ configFile: configPath(run.root), env: { MCP_API_KEYS: KNOWN_KEY, HOST: '127.0.0.1', PORT: '0', MCP_LOG_LEVEL: 'silent' } });
    const server = await createServer({ config });
    const url = new URL(await server.start());
    let stopped = false;
    try {
      expect(await runCheck([flag as string, script as string], url.port)).toBe(0);
      // Probes by pod IP pass the pinned Host check on /health only.
      expect(await statusWithHost(url, '/health', `10.1.2.3:${url.port}`)).toBe(200);
      expect(await statusWithHost(url, '/mcp', `10.1.2.3:${url.port}`)).toBe(403);
      await server.stop();
      stopped = true;
      expect(await runCheck([flag as string, script as string], url.port)).toBe(1);
    } finally {
      if (!stopped) await server.stop();
    }
  });
});

describe('a replicated deployment starts with the two shared-state variables', () => {
  it('the generated Kubernetes env plus MCP_REDIS_URL and MCP_SHARED_SECRET loads, starts and gets ready; without the secret it is refused (exit 2)', async () => {
    const run = await deploy({ replicas: '3' });
    expect(run.code).toBe(0);
    const files = readTree(join(run.root, 'deploy'));
    const k8s = yamlDocuments(files.get('kubernetes/mcp-warden.yaml') as string).find((document) => document.kind === 'Deployment');
    const container = k8s.spec.template.spec.containers[0];
    const redis = await startRedis();
    // What the Secret would hold: a key, the Redis URL, and what `openssl rand -base64 48` prints.
    const secrets: Record<string, string> = { MCP_API_KEYS: KNOWN_KEY, MCP_REDIS_URL: redis.url, MCP_SHARED_SECRET: randomBytes(48).toString('base64') };
    const env: Record<string, string> = {};
    for (const variable of container.env as Json[]) {
      env[variable.name] = variable.valueFrom === undefined ? variable.value : (secrets[variable.valueFrom.secretKeyRef.key] as string);
    }
    expect(Object.keys(env)).toEqual(expect.arrayContaining(['MCP_API_KEYS', 'MCP_REDIS_URL', 'MCP_SHARED_SECRET']));
    // The container's own arguments (--env-keys), and loopback on a free port for the test.
    const flags = { envKeys: container.args.includes('--env-keys') };
    const local: Record<string, string> = { ...env, HOST: '127.0.0.1', PORT: '0', MCP_LOG_LEVEL: 'silent' };
    let server: Awaited<ReturnType<typeof createServer>> | undefined;
    try {
      const config = loadConfig({ flags, configFile: configPath(run.root), env: local });
      expect(config.redis?.url).toBe(redis.url);
      expect(config.redis?.sharedSecret).toBe(secrets['MCP_SHARED_SECRET']);
      server = await createServer({ config });
      const url = new URL(await server.start());
      const deadline = Date.now() + 10_000;
      let status = 0;
      while (Date.now() < deadline && status !== 200) {
        status = (await fetch(new URL('/ready', url))).status;
        if (status !== 200) await new Promise((resolve) => setTimeout(resolve, 50));
      }
      expect(status).toBe(200);
      // The same env without the shared secret is what makes `serve` exit 2.
      const withoutSecret = Object.fromEntries(Object.entries(local).filter(([name]) => name !== 'MCP_SHARED_SECRET'));
      expect(() => loadConfig({ flags, configFile: configPath(run.root), env: withoutSecret })).toThrow(ConfigError);
      expect(() => loadConfig({ flags, configFile: configPath(run.root), env: withoutSecret })).toThrow(/MCP_SHARED_SECRET/);
    } finally {
      await server?.stop();
      await redis.stop();
    }
  }, 30_000);
});

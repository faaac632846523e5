/**
 * SECURITY_CHECKLIST.md follows the config and the options: --domain ticks the Host pin and
 * https items (and adds the Ingress), --replicas above 1 leaves the shared-state item open and
 * names MCP_REDIS_URL and MCP_SHARED_SECRET (as secrets, with no value) in the env template and
 * the manifests.
 */

import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { deploy, readTree, removeTempRoots, yamlDocuments, type Json } from './helpers.js';

afterAll(removeTempRoots);

interface Item {
  readonly done: boolean;
  readonly text: string;
  readonly parts: Map<string, { done: boolean; text: string }>;
}

/** Parses the checklist's task items: `- [x] **Title**: why`, with `  - [ ] Label: why` parts. */
function parseChecklist(markdown: string): Map<string, Item> {
  const items = new Map<string, Item>();
  let current: Item | undefined;
  for (const line of markdown.split('\n')) {
    const top = /^- \[( |x)\] \*\*(.+?)\*\*: (.+)$/.exec(line);
    if (top !== null) {
      current = { done: top[1] === 'x', text: top[3] as string, parts: new Map() };
      items.set(top[2] as string, current);
      continue;
    }
    const part = /^ {2}- \[( |x)\] ([^:]+): (.+)$/.exec(line);
    if (part !== null && current !== undefined) current.parts.set(part[2] as string, { done: part[1] === 'x', text: part[3] as string });
  }
  return items;
}

async function generated(options: Record<string, string>): Promise<{ files: Map<string, string>; checklist: Map<string, Item> }> {
  const run = await deploy(options);
  expect(run.code).toBe(0);
  const files = readTree(join(run.root, 'deploy'));
  return { files, checklist: parseChecklist(files.get('SECURITY_CHECKLIST.md') as string) };
}

function item(checklist: Map<string, Item>, title: string): Item {
  const found = checklist.get(title);
  if (found === undefined) throw new Error(`no checklist item "${title}"`);
  return found;
}

describe('the checklist', () => {
  it('covers every item the issue names, each ticked or not with a reason', async () => {
    const { checklist } = await generated({});
    for (const title of [
      'TLS terminated in front of the server',
      'Keys kept in a secret manager',
      'Key rotation plan',
      'Trust-proxy set for the platform',
      'CORS origins',
      'Shared state in Redis',
      'Log shipping',
      'Alerting on auth failures',
      'Host header pinned (DNS-rebinding protection)',
    ]) {
      expect(item(checklist, title).text.length, title).toBeGreaterThan(30);
    }
    // Processes, not files: never ticked by the generator.
    expect(item(checklist, 'Key rotation plan').done).toBe(false);
    expect(item(checklist, 'Alerting on auth failures').done).toBe(false);
    expect(item(checklist, 'Alerting on auth failures').text).toContain('"auth":"invalid"');
  });

  it('ticks a per-platform item only when every platform is done, and says how much is done', async () => {
    const { files, checklist } = await generated({});
    const tls = item(checklist, 'TLS terminated in front of the server');
    expect([...tls.parts.keys()]).toEqual(['Docker', 'Kubernetes', 'Cloud Run', 'Heroku', 'Railway / Render']);
    expect(tls.parts.get('Cloud Run')?.done).toBe(true);
    expect(tls.parts.get('Docker')?.done).toBe(false);
    expect(tls.done).toBe(false);
    const done = [...checklist.values()].filter((entry) => entry.done).length;
    expect(files.get('SECURITY_CHECKLIST.md')).toContain(`**${done} of ${checklist.size} done.**`);
  });

  it('explains the trust-proxy hop for each platform and leaves plain Docker untrusted', async () => {
    const { checklist } = await generated({});
    const trust = item(checklist, 'Trust-proxy set for the platform');
    for (const platform of ['Kubernetes', 'Cloud Run', 'Heroku', 'Railway / Render']) {
      expect(trust.parts.get(platform)?.done, platform).toBe(true);
      expect(trust.parts.get(platform)?.text, platform).toContain('`MCP_TRUST_PROXY=1`');
    }
    expect(trust.parts.get('Docker')?.done).toBe(false);
    expect(trust.text).toContain('X-Forwarded-For');
  });

  it('derives the CORS and limit items from the config', async () => {
    const { checklist } = await generated({});
    expect(item(checklist, 'CORS origins')).toMatchObject({ done: true });
    expect(item(checklist, 'CORS origins').text).toContain('`corsOrigins` is empty');
    expect(item(checklist, 'Request limits').text).toContain('100 requests per 60 s per client IP');
  });
});

describe('--domain', () => {
  it('without it: Host pin and https items open, no Ingress, Kubernetes TLS open', async () => {
    const { files, checklist } = await generated({});
    expect(item(checklist, 'Host header pinned (DNS-rebinding protection)')).toMatchObject({ done: false });
    expect(item(checklist, 'Host header pinned (DNS-rebinding protection)').text).toContain('no --domain');
    expect(item(checklist, 'Public URL is https (HSTS)').done).toBe(false);
    expect(item(checklist, 'TLS terminated in front of the server').parts.get('Kubernetes')?.done).toBe(false);
    const kinds = yamlDocuments(files.get('kubernetes/mcp-warden.yaml') as string).map((document) => document.kind);
    expect(kinds).not.toContain('Ingress');
  });

  it('with it: the items are ticked and name the domain', async () => {
    const { files, checklist } = await generated({ domain: 'mcp.example.com' });
    expect(item(checklist, 'Host header pinned (DNS-rebinding protection)')).toMatchObject({ done: true });
    expect(item(checklist, 'Host header pinned (DNS-rebinding protection)').text).toContain('["mcp.example.com"]');
    expect(item(checklist, 'Public URL is https (HSTS)')).toMatchObject({ done: true });
    expect(item(checklist, 'Public URL is https (HSTS)').text).toContain('https://mcp.example.com');
    expect(item(checklist, 'TLS terminated in front of the server').parts.get('Kubernetes')?.done).toBe(true);
    expect(files.get('.env.template')).toContain('# The config file pins mcp.example.com.');
  });
});

describe('--replicas', () => {
  it('1 (the default): the shared-state item is ticked and MCP_REDIS_URL and MCP_SHARED_SECRET appear nowhere', async () => {
    const { files, checklist } = await generated({});
    expect(item(checklist, 'Shared state in Redis').done).toBe(true);
    expect(checklist).not.toContain('later release');
    for (const [path, text] of files) {
      if (path === 'SECURITY_CHECKLIST.md') continue;
      expect(text.includes('MCP_REDIS_URL'), path).toBe(false);
      expect(text.includes('MCP_SHARED_SECRET'), path).toBe(false);
    }
    const deployment = yamlDocuments(files.get('kubernetes/mcp-warden.yaml') as string).find((document) => document.kind === 'Deployment');
    expect(deployment.spec.replicas).toBe(1);
    expect(deployment.spec.template.spec.topologySpreadConstraints).toBeUndefined();
    const annotations = yamlDocuments(files.get('cloud-run/service.yaml') as string)[0].spec.template.metadata.annotations;
    expect([annotations['autoscaling.knative.dev/minScale'], annotations['autoscaling.knative.dev/maxScale']]).toEqual(['1', '1']);
  });

  it('above 1: the item stays open and says what shared state needs now (Redis, a shared secret, maxmemory)', async () => {
    const { checklist, files } = await generated({ replicas: '4' });
    const store = item(checklist, 'Shared state in Redis');
    expect(store.done).toBe(false);
    expect(store.text).toContain('4 replicas share rate limits, sessions, bans and key revocations through Redis');
    expect(store.text).toContain('`MCP_REDIS_URL`');
    expect(store.text).toContain('`MCP_SHARED_SECRET`');
    expect(store.text).toContain('`openssl rand -base64 48`');
    expect(store.text).toContain('the server exits 2');
    expect(store.text).toContain('`maxmemory-policy volatile-lru`');
    expect(store.text).toContain('never `allkeys-*`');
    // Without Redis the limits split, and the checklist still says so.
    expect(store.text).toContain('4 × 100 requests per 60 s');
    expect(item(checklist, 'Revoke at the source, not only in Redis').done).toBe(false);
    for (const [path, text] of files) expect(text.includes('later release'), path).toBe(false);
  });

  it('above 1: MCP_REDIS_URL and MCP_SHARED_SECRET are named as secrets, with no value, in .env.template and the manifests', async () => {
    const { files } = await generated({ replicas: '4' });
    const template = files.get('.env.template') as string;
    expect(template).toMatch(/^MCP_REDIS_URL=$/m);
    expect(template).toMatch(/^MCP_SHARED_SECRET=$/m);
    expect(template).toContain('`openssl rand -base64 48`');
    const deployment = yamlDocuments(files.get('kubernetes/mcp-warden.yaml') as string).find((document) => document.kind === 'Deployment');
    expect(deployment.spec.replicas).toBe(4);
    const env = deployment.spec.template.spec.containers[0].env as Json[];
    // Required: a pod without them would not share state (or, with only the URL, exit 2).
    for (const name of ['MCP_REDIS_URL', 'MCP_SHARED_SECRET']) {
      expect(env.find((variable) => variable.name === name)).toEqual({ name, valueFrom: { secretKeyRef: { name: 'mcp-warden-api-keys', key: name } } });
    }
    expect(yamlDocuments(files.get('kubernetes/secret.template.yaml') as string)[0].stringData).toEqual({ MCP_API_KEYS: '', MCP_REDIS_URL: '', MCP_SHARED_SECRET: '' });
    expect(files.get('kubernetes/secret.template.yaml')).toContain('openssl rand -base64 48');
    expect(deployment.spec.template.spec.topologySpreadConstraints[0].topologyKey).toBe('kubernetes.io/hostname');
    const cloudRun = yamlDocuments(files.get('cloud-run/service.yaml') as string)[0];
    const container = cloudRun.spec.template.spec.containers[0];
    expect((container.env as Json[]).filter((variable) => variable.name.startsWith('MCP_REDIS') || variable.name.startsWith('MCP_SHARED'))).toEqual([
      { name: 'MCP_REDIS_URL', valueFrom: { secretKeyRef: { name: 'mcp-warden-redis-url', key: 'latest' } } },
      { name: 'MCP_SHARED_SECRET', valueFrom: { secretKeyRef: { name: 'mcp-warden-shared-secret', key: 'latest' } } },
    ]);
    expect(files.get('cloud-run/service.yaml')).toContain('gcloud secrets create mcp-warden-shared-secret');
    expect(cloudRun.spec.template.metadata.annotations['autoscaling.knative.dev/maxScale']).toBe('4');
    const app = JSON.parse(files.get('heroku/app.json') as string) as Json;
    expect(app.env.MCP_REDIS_URL).toMatchObject({ required: true });
    expect(app.env.MCP_REDIS_URL.value).toBeUndefined();
    // Heroku generates the shared secret once for the app, so every dyno holds the same one.
    expect(app.env.MCP_SHARED_SECRET).toMatchObject({ required: true, generator: 'secret' });
    expect(app.env.MCP_SHARED_SECRET.value).toBeUndefined();
    expect(app.formation.web.quantity).toBe(4);
    const render = yamlDocuments(files.get('railway/render.yaml') as string)[0].services[0];
    for (const name of ['MCP_REDIS_URL', 'MCP_SHARED_SECRET']) {
      expect((render.envVars as Json[]).find((variable) => variable.key === name)).toEqual({ key: name, sync: false });
    }
    expect(files.get('railway/start.sh')).toMatch(/MCP_SHARED_SECRET/);
  });
});

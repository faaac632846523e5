/**
 * SECURITY_CHECKLIST.md follows the config and the options: --domain ticks the Host pin and
 * https items (and adds the Ingress), --replicas above 1 leaves the shared-store item open and
 * names MCP_REDIS_URL (with no value) in the env template and the manifests.
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
      'Shared rate-limit and session store',
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
  it('1 (the default): the shared-store item is ticked and MCP_REDIS_URL appears nowhere', async () => {
    const { files, checklist } = await generated({});
    expect(item(checklist, 'Shared rate-limit and session store').done).toBe(true);
    for (const [path, text] of files) {
      if (path === 'SECURITY_CHECKLIST.md') continue;
      expect(text.includes('MCP_REDIS_URL'), path).toBe(false);
    }
    const deployment = yamlDocuments(files.get('kubernetes/mcp-warden.yaml') as string).find((document) => document.kind === 'Deployment');
    expect(deployment.spec.replicas).toBe(1);
    expect(deployment.spec.template.spec.topologySpreadConstraints).toBeUndefined();
    const annotations = yamlDocuments(files.get('cloud-run/service.yaml') as string)[0].spec.template.metadata.annotations;
    expect([annotations['autoscaling.knative.dev/minScale'], annotations['autoscaling.knative.dev/maxScale']]).toEqual(['1', '1']);
  });

  it('above 1: the item stays open and explains per-replica limits and sessions', async () => {
    const { checklist } = await generated({ replicas: '4' });
    const store = item(checklist, 'Shared rate-limit and session store');
    expect(store.done).toBe(false);
    expect(store.text).toContain('4 replicas each keep their own rate limit and sessions');
    expect(store.text).toContain('4 × 100 requests per 60 s');
    expect(store.text).toContain('MCP_REDIS_URL');
  });

  it('above 1: MCP_REDIS_URL is named with no value in .env.template and the manifests', async () => {
    const { files } = await generated({ replicas: '4' });
    expect(files.get('.env.template')).toMatch(/^MCP_REDIS_URL=$/m);
    const deployment = yamlDocuments(files.get('kubernetes/mcp-warden.yaml') as string).find((document) => document.kind === 'Deployment');
    expect(deployment.spec.replicas).toBe(4);
    const redis = (deployment.spec.template.spec.containers[0].env as Json[]).find((variable) => variable.name === 'MCP_REDIS_URL');
    // Optional, so pods start before the store exists.
    expect(redis).toEqual({ name: 'MCP_REDIS_URL', valueFrom: { secretKeyRef: { name: 'mcp-warden-api-keys', key: 'MCP_REDIS_URL', optional: true } } });
    expect(deployment.spec.template.spec.topologySpreadConstraints[0].topologyKey).toBe('kubernetes.io/hostname');
    const cloudRun = files.get('cloud-run/service.yaml') as string;
    expect(cloudRun).toContain('MCP_REDIS_URL');
    expect(yamlDocuments(cloudRun)[0].spec.template.metadata.annotations['autoscaling.knative.dev/maxScale']).toBe('4');
    const app = JSON.parse(files.get('heroku/app.json') as string) as Json;
    expect(app.env.MCP_REDIS_URL).toMatchObject({ required: false });
    expect(app.env.MCP_REDIS_URL.value).toBeUndefined();
    expect(app.formation.web.quantity).toBe(4);
    const render = yamlDocuments(files.get('railway/render.yaml') as string)[0].services[0];
    expect((render.envVars as Json[]).find((variable) => variable.key === 'MCP_REDIS_URL')).toEqual({ key: 'MCP_REDIS_URL', sync: false });
  });
});

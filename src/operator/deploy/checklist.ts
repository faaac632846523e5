/**
 * @module operator/deploy/checklist
 * SECURITY_CHECKLIST.md, derived from the deployment and its config: each item is ticked only
 * when the generated files settle it, and says why either way. Items that differ by platform
 * carry one sub-item per platform and are ticked only when every platform is.
 */

import { BASE_IMAGE, RUN_AS_UID } from './docker.js';
import { INGRESS_NAMESPACE, TLS_SECRET } from './kubernetes.js';
import { CHECKLIST_FILE, CONFIG_FILE, SHARED_SECRET_COMMAND, generatedBy, includes, isReplicated, type Deployment, type GeneratedFile } from './model.js';
import { PLATFORM_PROFILES, type Platform, type PlatformFact, type PlatformProfile } from './platforms.js';

export interface ChecklistPart {
  readonly label: string;
  readonly done: boolean;
  readonly why: string;
}

export interface ChecklistItem {
  readonly title: string;
  readonly done: boolean;
  readonly why: string;
  readonly parts?: readonly ChecklistPart[];
}

export interface ChecklistSection {
  readonly heading: string;
  readonly items: readonly ChecklistItem[];
}

function perPlatform(deployment: Deployment, title: string, why: string, fact: (platform: Platform, profile: PlatformProfile) => PlatformFact): ChecklistItem {
  const parts = deployment.platforms.map((platform) => {
    const profile = PLATFORM_PROFILES[platform];
    return { label: profile.label, ...fact(platform, profile) };
  });
  return { title, done: parts.every((part) => part.done), why, parts };
}

function tls(deployment: Deployment, platform: Platform): PlatformFact {
  switch (platform) {
    case 'docker':
      return { done: false, why: 'a plain container speaks HTTP: put a TLS-terminating proxy (Caddy, nginx, a cloud load balancer) in front and never publish the port to the internet directly.' };
    case 'kubernetes':
      return deployment.domain === undefined
        ? { done: false, why: 'no --domain, so no Ingress was generated: terminate TLS at your ingress or load balancer.' }
        : { done: true, why: `the Ingress terminates TLS for ${deployment.domain} with the certificate in Secret \`${TLS_SECRET}\` (issue it with cert-manager) and redirects http to https.` };
    case 'cloud-run':
      return { done: true, why: 'Cloud Run serves only HTTPS on its URL and on mapped domains.' };
    case 'heroku':
      return { done: true, why: 'the Heroku router terminates TLS on *.herokuapp.com and, with Automated Certificate Management, on custom domains.' };
    case 'railway':
      return { done: true, why: 'Railway and Render terminate TLS on their domains and on custom domains.' };
  }
}

const HEALTH_CHECKS: Readonly<Record<Platform, PlatformFact>> = {
  docker: { done: true, why: 'the Dockerfile HEALTHCHECK fetches it with Node (slim images have no curl).' },
  kubernetes: { done: true, why: 'startup and liveness probes fetch /health, the readiness probe /ready, by pod address.' },
  'cloud-run': { done: true, why: 'the startup probe fetches /ready (no traffic before the shared state is synced), the liveness probe /health.' },
  heroku: { done: false, why: 'Heroku has no HTTP health check (the router only waits for the port): point an uptime monitor at https://HOST/health.' },
  railway: { done: true, why: 'railway.json `healthcheckPath` and render.yaml `healthCheckPath` use /ready.' },
};

function keys(deployment: Deployment): ChecklistSection {
  return {
    heading: 'Keys',
    items: [
      {
        title: 'An API key is required to start',
        done: true,
        why: 'every start command passes `--env-keys`, so with `MCP_API_KEYS` empty the server exits 2 instead of serving; a non-loopback bind without a key is refused in any case.',
      },
      {
        title: 'No key in any generated file',
        done: true,
        why: `keys reach the server only through \`MCP_API_KEYS\` from the platform's secret store; ${CONFIG_FILE} has no \`apiKeys\`, and .env.template and the secret templates hold names only.`,
      },
      perPlatform(deployment, 'Keys kept in a secret manager', 'anyone who can read the variable can call every tool.', (_platform, profile) => profile.secrets),
      {
        title: 'Key rotation plan',
        done: false,
        why: '`MCP_API_KEYS` accepts several comma-separated keys, so rotation needs no downtime: add the new key, move clients over, remove the old one. Decide who rotates, how often (for example every 90 days) and what forces an early rotation (a leak, a departure). The request log records each key\'s fingerprint (`keyId`), so you can see when an old key falls out of use.',
      },
    ],
  };
}

function network(deployment: Deployment): ChecklistSection {
  const { config, domain } = deployment;
  const pinned = config.allowedHosts !== undefined && config.allowedHosts.length > 0;
  const https = config.publicUrl !== undefined && config.publicUrl.startsWith('https://');
  return {
    heading: 'Network',
    items: [
      perPlatform(deployment, 'TLS terminated in front of the server', 'the server speaks plain HTTP; bearer keys must only cross the network inside TLS.', (platform) => tls(deployment, platform)),
      perPlatform(
        deployment,
        'Trust-proxy set for the platform',
        'the rate limit keys on the client address. Too low a hop count is safe (clients behind the proxy share one limit); too high lets a client forge `X-Forwarded-For` and reset its limit. Check once: send `X-Forwarded-For: 203.0.113.9` and confirm the request log\'s `ip` is your real address.',
        (_platform, profile) => ({ done: profile.trustProxy !== undefined, why: profile.trustProxyWhy }),
      ),
      {
        title: 'Host header pinned (DNS-rebinding protection)',
        done: pinned,
        why: pinned
          ? `\`allowedHosts\` is ${JSON.stringify(config.allowedHosts)}: requests naming any other host get 403 (\`/health\` stays open for probes). The platform's own URL (*.run.app, *.herokuapp.com, ...) is refused too, so point ${domain ?? 'the domain'} at the service.`
          : 'no --domain was given, so any Host is accepted on the non-loopback bind. Regenerate with `--domain HOST` or set `MCP_ALLOWED_HOSTS`.',
      },
      {
        title: 'Public URL is https (HSTS)',
        done: https,
        why: https
          ? `\`publicUrl\` is ${config.publicUrl ?? ''}: responses carry Strict-Transport-Security and the origin counts as the server's own.`
          : 'no --domain was given, so no public URL is set and no HSTS header is sent. Regenerate with `--domain HOST` or set `MCP_PUBLIC_URL=https://HOST`.',
      },
      {
        title: 'CORS origins',
        done: true,
        why:
          config.corsOrigins.length === 0
            ? '`corsOrigins` is empty: no browser origin gets cross-origin access (`*` is always refused). Add only the exact origins of your own web apps.'
            : `only ${config.corsOrigins.join(', ')} get cross-origin access; \`*\` is always refused.`,
      },
    ],
  };
}

function scaling(deployment: Deployment): ChecklistSection {
  const { config, replicas } = deployment;
  return {
    heading: 'Scaling',
    items: [
      {
        title: 'Shared state in Redis',
        done: !isReplicated(deployment),
        why: isReplicated(deployment)
          ? `${replicas} replicas share rate limits, sessions, bans and key revocations through Redis. The generated files read \`MCP_REDIS_URL\` and \`MCP_SHARED_SECRET\` from your secrets (names only, never values): provision a Redis reachable only by the replicas (password, \`rediss://\`), and make the shared secret with \`${SHARED_SECRET_COMMAND}\` (the same on every replica, never stored in Redis; with a Redis URL and no shared secret the server exits 2). Give Redis a \`maxmemory\` comfortably above the budgets (\`--event-store-bytes\` + 400 bytes per session + 400 bytes per rate-limited client, plus 50 %) with \`maxmemory-policy volatile-lru\` (or \`volatile-ttl\`), never \`allkeys-*\` (it may evict key revocations). Without \`MCP_REDIS_URL\` each replica keeps its own limits and sessions: a client may get up to ${replicas} × ${config.rateLimit} requests per ${config.rateWindow} s, and a session routed to another replica gets 404.`
          : `one replica: the in-memory limiter is exact (${config.rateLimit} requests per ${config.rateWindow} s per client IP) and every session lives on it. More replicas share state through Redis (\`MCP_REDIS_URL\` and \`MCP_SHARED_SECRET\`).`,
      },
      ...(isReplicated(deployment)
        ? [
            {
              title: 'Revoke at the source, not only in Redis',
              done: false,
              why: 'Redis carries a revocation to the running replicas, but whoever can write to Redis can delete it, and a replica started later with keys that still hold it would accept the key: remove a revoked key from `MCP_API_KEYS` (or the keys file) every replica starts with (see the README trust model).',
            },
            {
              title: 'Session affinity (gateway with stdio upstreams)',
              done: includes(deployment, 'kubernetes') || includes(deployment, 'cloud-run'),
              why: 'a 2025-era session of a gateway lives with its stdio children on the replica that created it; 2026-07-28 requests may go anywhere. The Kubernetes Ingress hashes each client address to one pod (`upstream-hash-by: $binary_remote_addr`) and the Service keeps `sessionAffinity: ClientIP`; Cloud Run turns on its session affinity. Hashing `Mcp-Session-Id` alone is not enough (the initialize that creates a session has no id yet): behind HAProxy, learn the id from the response with a stick table instead (README "Gateway replicas"). On Heroku run `heroku features:enable http-session-affinity`; Railway and Render have no affinity: run one replica of a gateway with per-session children there.',
            },
          ]
        : []),
      {
        title: 'Request limits',
        done: true,
        why: `${config.rateLimit} requests per ${config.rateWindow} s per client IP (IPv6 by /64), bodies up to ${config.bodyLimit} bytes, at most ${config.maxSessions} sessions, idle sessions closed after ${config.sessionTtl} s.`,
      },
    ],
  };
}

function runtime(deployment: Deployment): ChecklistSection {
  const usesImage = deployment.platforms.some((platform) => PLATFORM_PROFILES[platform].usesImage);
  const kubernetes = includes(deployment, 'kubernetes');
  const items: ChecklistItem[] = [];
  if (usesImage) {
    items.push(
      {
        title: 'Container runs unprivileged',
        done: true,
        why: `the image runs as uid ${RUN_AS_UID} with its files owned by root, and holds production dependencies only${
          kubernetes ? '; the Deployment adds runAsNonRoot, readOnlyRootFilesystem, allowPrivilegeEscalation: false, every capability dropped, seccomp RuntimeDefault and no service-account token' : ''
        }.`,
      },
      {
        title: 'Base image pinned by digest',
        done: false,
        why: `\`FROM ${BASE_IMAGE}\` follows a tag: pin it (\`${BASE_IMAGE}@sha256:...\`), update it deliberately (Renovate, Dependabot) and scan the built image.`,
      },
    );
  }
  if (kubernetes) {
    items.push({
      title: 'Network policy',
      done: true,
      why: `the NetworkPolicy admits traffic only from the ${INGRESS_NAMESPACE} namespace to the server port and lets the pod reach DNS only (and port 6379 when replicated); change the namespace if your ingress controller lives elsewhere.`,
    });
  }
  items.push(
    perPlatform(
      deployment,
      'Health checks on /health and /ready',
      '`GET /health` (alive) and `GET /ready` (503 until the revocations and bans stored in Redis are applied) are public and exempt from the rate limit and the Host check, so probes need no key and may use the pod or container address.',
      (platform) => HEALTH_CHECKS[platform],
    ),
  );
  return { heading: 'Runtime', items };
}

function operations(deployment: Deployment): ChecklistSection {
  return {
    heading: 'Operations',
    items: [
      perPlatform(deployment, 'Log shipping', `one JSON line per request on stdout (log level ${deployment.config.logLevel}), with key fingerprints and never a key.`, (_platform, profile) => profile.logs),
      {
        title: 'Alerting on auth failures',
        done: false,
        why: 'refused keys are logged with `"auth":"invalid"` (or `"missing"`) and a `failure` reason, and `/api/status` counts `authFailures`: alert on a spike (for example more than 20 a minute from one ip) and on bursts of 429s, which mean someone is guessing or a client is misconfigured.',
      },
    ],
  };
}

/** The checklist as data (what the Markdown renders). */
export function checklistSections(deployment: Deployment): ChecklistSection[] {
  return [keys(deployment), network(deployment), scaling(deployment), runtime(deployment), operations(deployment)];
}

function box(done: boolean): string {
  return done ? '[x]' : '[ ]';
}

/** Renders the checklist as Markdown task lists. */
export function renderChecklist(deployment: Deployment): string {
  const sections = checklistSections(deployment);
  const items = sections.flatMap((section) => section.items);
  const done = items.filter((item) => item.done).length;
  const labels = deployment.platforms.map((platform) => PLATFORM_PROFILES[platform].label).join(', ');
  const lines = [
    `<!-- ${generatedBy(deployment)} -->`,
    '# Security checklist',
    '',
    `Derived from \`${CONFIG_FILE}\` and the manifests for: ${labels}. Domain: ${deployment.domain ?? 'none'}. Replicas: ${deployment.replicas}.`,
    '',
    `**${done} of ${items.length} done.** An open box needs a decision or an action outside these files; the reason is beside it.`,
  ];
  for (const section of sections) {
    lines.push('', `## ${section.heading}`, '');
    for (const item of section.items) {
      lines.push(`- ${box(item.done)} **${item.title}**: ${item.why}`);
      for (const part of item.parts ?? []) lines.push(`  - ${box(part.done)} ${part.label}: ${part.why}`);
    }
  }
  return `${lines.join('\n')}\n`;
}

export function checklistFiles(deployment: Deployment): GeneratedFile[] {
  return [{ path: CHECKLIST_FILE, content: renderChecklist(deployment) }];
}

/**
 * @module operator/deploy/railway
 * Railway and Render: one start script both run (with `--env-keys`, the config file and the
 * platform's trust-proxy hop as a default), plus railway.json and render.yaml that point at it
 * and health-check /ready (a new instance gets traffic once it has synced the shared state).
 */

import { posix } from 'node:path';
import { CLI_ENTRY, CONFIG_FILE, ENV_KEYS_FLAG, SHARED_SECRET_COMMAND, APP_NAME, generatedBy, isReplicated, repoPath, type Deployment, type GeneratedFile } from './model.js';
import { PLATFORM_PROFILES } from './platforms.js';
import { hashComment, yamlFile } from './yaml.js';

export const START_SCRIPT = 'railway/start.sh';
export const RAILWAY_JSON = 'railway/railway.json';
export const RENDER_YAML = 'railway/render.yaml';

/** The path from the script's directory back to the repository root (`../..` for deploy/railway). */
function backToRoot(deployment: Deployment): string {
  const depth = posix.dirname(repoPath(deployment, START_SCRIPT)).split('/').length;
  return Array.from({ length: depth }, () => '..').join('/');
}

function startScript(deployment: Deployment): string {
  return [
    '#!/bin/sh',
    hashComment([
      generatedBy(deployment),
      'Start command for Railway and Render (both set PORT and terminate TLS in front of the service).',
      'MCP_API_KEYS must be set in the service\'s variables; the server refuses to start without it.',
      ...(isReplicated(deployment)
        ? [
            `${deployment.replicas} replicas share rate limits, sessions, bans and revocations through Redis: set MCP_REDIS_URL`,
            `(the Redis URL) and MCP_SHARED_SECRET (\`${SHARED_SECRET_COMMAND}\`, the same for every replica, never stored in Redis)`,
            'in the service\'s variables as well; with a Redis URL and no shared secret the server refuses to start.',
          ]
        : []),
    ]),
    'set -eu',
    `cd "$(dirname "$0")/${backToRoot(deployment)}"`,
    `export MCP_TRUST_PROXY="\${MCP_TRUST_PROXY:-${PLATFORM_PROFILES.railway.trustProxy ?? ''}}"`,
    `exec node ${CLI_ENTRY} ${ENV_KEYS_FLAG} --config ${repoPath(deployment, CONFIG_FILE)}`,
    '',
  ].join('\n');
}

function railwayJson(deployment: Deployment): string {
  const config = {
    $schema: 'https://railway.com/railway.schema.json',
    build: { buildCommand: 'npm run build' },
    deploy: {
      startCommand: `sh ${repoPath(deployment, START_SCRIPT)}`,
      healthcheckPath: '/ready',
      healthcheckTimeout: 60,
      numReplicas: deployment.replicas,
      restartPolicyType: 'ON_FAILURE',
      restartPolicyMaxRetries: 10,
    },
  };
  return `${JSON.stringify(config, null, 2)}\n`;
}

function renderYaml(deployment: Deployment): string {
  const envVars: Array<Record<string, unknown>> = [
    // sync: false makes Render ask for the value in the dashboard; it is never stored in this file.
    { key: 'MCP_API_KEYS', sync: false },
    { key: 'MCP_TRUST_PROXY', value: PLATFORM_PROFILES.railway.trustProxy },
    { key: 'NODE_VERSION', value: '20' },
  ];
  if (isReplicated(deployment)) envVars.push({ key: 'MCP_REDIS_URL', sync: false }, { key: 'MCP_SHARED_SECRET', sync: false });
  const blueprint = {
    services: [
      {
        type: 'web',
        name: APP_NAME,
        runtime: 'node',
        // Dev dependencies hold the TypeScript compiler; npm ci would skip them under NODE_ENV=production.
        buildCommand: 'npm ci --include=dev && npm run build',
        startCommand: `sh ${repoPath(deployment, START_SCRIPT)}`,
        healthCheckPath: '/ready',
        numInstances: deployment.replicas,
        envVars,
      },
    ],
  };
  return yamlFile([generatedBy(deployment), 'Render reads render.yaml from the repository root (or the Blueprint path you set).'], [blueprint]);
}

export function railwayFiles(deployment: Deployment): GeneratedFile[] {
  return [
    { path: START_SCRIPT, content: startScript(deployment), mode: 0o755 },
    { path: RAILWAY_JSON, content: railwayJson(deployment) },
    { path: RENDER_YAML, content: renderYaml(deployment) },
  ];
}

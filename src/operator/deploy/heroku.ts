/**
 * @module operator/deploy/heroku
 * Heroku Procfile and app.json. The Node buildpack compiles the app (`npm run build`) and the
 * web process starts with `--env-keys`. app.json has Heroku generate the key, so no value is
 * ever written here.
 */

import { CLI_ENTRY, CONFIG_FILE, ENV_KEYS_FLAG, APP_NAME, generatedBy, isReplicated, repoPath, type Deployment, type GeneratedFile } from './model.js';
import { PLATFORM_PROFILES } from './platforms.js';
import { hashComment } from './yaml.js';

export const PROCFILE = 'heroku/Procfile';
export const APP_JSON = 'heroku/app.json';

/** The web command; MCP_TRUST_PROXY defaults to the router's single hop unless a config var overrides it. */
export function herokuWebCommand(deployment: Deployment): string {
  const trust = PLATFORM_PROFILES.heroku.trustProxy ?? '';
  return `MCP_TRUST_PROXY=\${MCP_TRUST_PROXY:-${trust}} node ${CLI_ENTRY} ${ENV_KEYS_FLAG} --config ${repoPath(deployment, CONFIG_FILE)}`;
}

function procfile(deployment: Deployment): string {
  // Heroku reads only `type: command` lines, so a leading `#` line is a safe comment.
  return `${hashComment([`${generatedBy(deployment)}`, 'Heroku reads the Procfile from the repository root, so copy it there.'])}\nweb: ${herokuWebCommand(deployment)}\n`;
}

function appJson(deployment: Deployment): string {
  const env: Record<string, Record<string, unknown>> = {
    MCP_API_KEYS: {
      description: 'Comma-separated API keys. Heroku generates one random key here; add your own with `mcp-warden keygen`.',
      generator: 'secret',
      required: true,
    },
    MCP_TRUST_PROXY: { description: 'The Heroku router is one proxy hop.', value: PLATFORM_PROFILES.heroku.trustProxy, required: true },
    NODE_ENV: { description: 'Production mode for Node and npm.', value: 'production', required: true },
  };
  if (isReplicated(deployment)) {
    env['MCP_REDIS_URL'] = {
      description: 'Redis shared by the dynos (rate limits, sessions, bans, revocations). With the Heroku Redis add-on, set it to the add-on\u2019s REDIS_TLS_URL or REDIS_URL.',
      required: true,
    };
    env['MCP_SHARED_SECRET'] = {
      description: 'Signs what the dynos exchange through Redis; never stored in Redis. Heroku generates it here (or use `openssl rand -base64 48`).',
      generator: 'secret',
      required: true,
    };
  }
  const manifest = {
    name: APP_NAME,
    description: 'A secure Model Context Protocol server (mcp-warden)',
    keywords: ['mcp', 'model-context-protocol', 'security'],
    buildpacks: [{ url: 'heroku/nodejs' }],
    env,
    formation: { web: { quantity: deployment.replicas, size: isReplicated(deployment) ? 'standard-1x' : 'basic' } },
  };
  return `${JSON.stringify(manifest, null, 2)}\n`;
}

export function herokuFiles(deployment: Deployment): GeneratedFile[] {
  return [
    { path: PROCFILE, content: procfile(deployment) },
    { path: APP_JSON, content: appJson(deployment) },
  ];
}

/**
 * @module operator/deploy/env-template
 * .env.template: the environment variables a production server reads, each with a comment
 * and no value. Descriptions come from OPTION_SPECS so they match `mcp-warden --help`.
 */

import { OPTION_SPECS, type OptionSpec } from '../../config/options.js';
import { CONFIG_FILE, SHARED_SECRET_COMMAND, generatedBy, isReplicated, repoPath, type Deployment, type GeneratedFile } from './model.js';
import { PLATFORM_PROFILES } from './platforms.js';
import { hashComment } from './yaml.js';

export const ENV_TEMPLATE_FILE = '.env.template';

interface Variable {
  readonly name: string;
  readonly comment: readonly string[];
}

function described(env: string, extra: readonly string[]): Variable {
  const spec = (OPTION_SPECS as readonly OptionSpec[]).find((candidate) => candidate.env === env);
  return { name: env, comment: [...(spec === undefined ? [] : [`${spec.description}.`]), ...extra] };
}

function variables(deployment: Deployment): Variable[] {
  const hops = deployment.platforms
    .map((platform) => `${PLATFORM_PROFILES[platform].label}: ${PLATFORM_PROFILES[platform].trustProxy ?? 'unset unless behind a proxy'}`)
    .join('; ');
  const list: Variable[] = [
    described('MCP_API_KEYS', ['Required (every start command passes --env-keys). Make each key with `mcp-warden keygen`; keep them in a secret manager.']),
    described('MCP_TRUST_PROXY', [`Set per platform by the generated manifests (${hops}).`]),
    described('PORT', [`Most platforms set it; the image defaults to ${deployment.config.port}.`]),
    { name: 'MCP_CONFIG', comment: [`JSON config file; the image sets it to its copy of ${repoPath(deployment, CONFIG_FILE)}.`] },
    described('MCP_LOG_LEVEL', ['Overrides the config file.']),
    described('MCP_ALLOWED_HOSTS', [deployment.domain === undefined ? 'Set it to your public host name (DNS-rebinding protection).' : `The config file pins ${deployment.domain}.`]),
    described('MCP_PUBLIC_URL', [deployment.domain === undefined ? 'Set it to your https URL (enables HSTS).' : `The config file sets https://${deployment.domain}.`]),
    described('MCP_CORS_ORIGINS', ['Only the exact origins of your browser apps; leave empty otherwise.']),
  ];
  if (isReplicated(deployment)) {
    list.push(
      described('MCP_REDIS_URL', [
        `Required for ${deployment.replicas} replicas: without it each replica keeps its own limits and sessions.`,
        'Use rediss:// with a password; Redis maxmemory settings: see the README (Running several replicas).',
      ]),
      described('MCP_SHARED_SECRET', [
        `Required with MCP_REDIS_URL (the server exits 2 without it): \`${SHARED_SECRET_COMMAND}\`, the same on every replica, never stored in Redis.`,
      ]),
    );
  }
  return list;
}

function envTemplate(deployment: Deployment): string {
  const blocks = variables(deployment).map((variable) => `${hashComment(variable.comment)}\n${variable.name}=`);
  const header = hashComment([
    generatedBy(deployment),
    'Names only: copy to .env (never commit it) and fill values from your secret manager.',
    'Empty values are ignored by the server.',
  ]);
  return `${header}\n\n${blocks.join('\n\n')}\n`;
}

export function envTemplateFiles(deployment: Deployment): GeneratedFile[] {
  return [{ path: ENV_TEMPLATE_FILE, content: envTemplate(deployment) }];
}

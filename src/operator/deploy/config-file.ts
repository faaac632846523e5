/**
 * @module operator/deploy/config-file
 * The production server configuration written to mcp-warden.config.json: non-loopback bind,
 * the option defaults written out so operators see them, and with `--domain` the Host pin and
 * https public URL. Validated against OPTION_SPECS, so what `--config` would refuse is never
 * written. Keys are never part of it; the trust-proxy hop count is per platform (set in each
 * manifest through MCP_TRUST_PROXY), so one file serves every platform.
 */

import { OPTION_SPECS, type OptionSpec } from '../../config/options.js';
import { CONFIG_FILE, type GeneratedFile } from './model.js';

/** The keys written to the production config file. */
export interface ProductionConfig {
  readonly host: string;
  readonly port: number;
  readonly rateLimit: number;
  readonly rateWindow: number;
  readonly rateLimitMaxClients: number;
  readonly corsOrigins: readonly string[];
  readonly allowedHosts?: readonly string[];
  readonly publicUrl?: string;
  readonly logLevel: string;
  readonly monitoring: boolean;
  readonly bodyLimit: number;
  readonly maxSessions: number;
  readonly sessionTtl: number;
  readonly shutdownTimeout: number;
}

/**
 * Keys that must never be written into a generated config: secrets (they belong in the
 * platform's secret store) and the trust-proxy setting (it differs per platform).
 */
const FORBIDDEN_KEYS = new Set(['apiKeys', 'envKeys', 'metricsToken', 'auditKey', 'trustProxy']);

function spec(key: string): OptionSpec {
  const found = (OPTION_SPECS as readonly OptionSpec[]).find((candidate) => candidate.key === key);
  if (found === undefined) throw new Error(`unknown option ${key}`);
  return found;
}

function defaultOf<T>(key: string): T {
  return spec(key).default as T;
}

/**
 * The production config for a deployment.
 *
 * @example
 * productionConfig('mcp.example.com').allowedHosts; // ['mcp.example.com']
 */
export function productionConfig(domain: string | undefined): ProductionConfig {
  return {
    // Every platform routes to the container's interface, never to its loopback.
    host: '0.0.0.0',
    port: defaultOf<number>('port'),
    rateLimit: defaultOf<number>('rateLimit'),
    rateWindow: defaultOf<number>('rateWindow'),
    rateLimitMaxClients: defaultOf<number>('rateLimitMaxClients'),
    corsOrigins: [],
    // Pinning Host to the public name closes DNS rebinding on any bind address.
    ...(domain === undefined ? {} : { allowedHosts: [domain], publicUrl: `https://${domain}` }),
    logLevel: defaultOf<string>('logLevel'),
    monitoring: defaultOf<boolean>('monitoring'),
    bodyLimit: defaultOf<number>('bodyLimit'),
    maxSessions: defaultOf<number>('maxSessions'),
    sessionTtl: defaultOf<number>('sessionTtl'),
    shutdownTimeout: defaultOf<number>('shutdownTimeout'),
  };
}

/** Problems with a config against OPTION_SPECS (each value must pass the option's schema). */
export function configProblems(config: ProductionConfig): string[] {
  const problems: string[] = [];
  for (const [key, value] of Object.entries(config)) {
    if (FORBIDDEN_KEYS.has(key)) {
      problems.push(`"${key}" must not appear in a generated config`);
      continue;
    }
    const option = (OPTION_SPECS as readonly OptionSpec[]).find((candidate) => candidate.key === key);
    if (option === undefined) {
      problems.push(`"${key}" is not a server option`);
      continue;
    }
    const result = option.schema.safeParse(value);
    if (!result.success) problems.push(`"${key}": ${result.error.issues[0]?.message ?? 'invalid value'}`);
  }
  return problems;
}

/** mcp-warden.config.json (JSON has no comments; the checklist and headers point at it). */
export function configFiles(config: ProductionConfig): GeneratedFile[] {
  return [{ path: CONFIG_FILE, content: `${JSON.stringify(config, null, 2)}\n` }];
}

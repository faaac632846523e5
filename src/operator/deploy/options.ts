/**
 * @module operator/deploy/options
 * Parses and validates the options of `mcp-warden deploy` once, at the edge, into a
 * {@link Deployment}. Every problem is reported together in one ConfigError (exit 2), as
 * `serve` does for its options.
 */

import { isAbsolute, relative, resolve, sep } from 'node:path';
import { ConfigError } from '../../config/load.js';
import { VERSION } from '../../version.js';
import { configProblems, productionConfig } from './config-file.js';
import type { Deployment } from './model.js';
import { PLATFORMS, type Platform } from './platforms.js';

/** The options as the command line gives them (strings; undefined when absent). */
export interface DeployInput {
  readonly out?: string;
  readonly platform?: string;
  readonly domain?: string;
  readonly replicas?: string | number;
  readonly image?: string;
}

export const DEFAULT_OUT = 'deploy';
export const DEFAULT_IMAGE = `mcp-warden:${VERSION}`;
export const MAX_REPLICAS = 1000;

/** A DNS name with at least two labels (RFC 1123 labels, 253 characters at most). */
const DOMAIN = /^(?=.{1,253}$)[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?(?:\.[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?)+$/;
/** An image reference: registry/path:tag@digest characters only, so it is safe in YAML and shell. */
const IMAGE = /^[A-Za-z0-9][A-Za-z0-9._\-/:@]{0,254}$/;
/** The output path appears in the Dockerfile, Procfile and a shell script: keep it to plain characters. */
const PLAIN_PATH = /^[A-Za-z0-9._\-/]*$/;

function parsePlatforms(text: string, problems: string[]): Platform[] {
  const names = text
    .split(',')
    .map((name) => name.trim().toLowerCase())
    .filter((name) => name.length > 0);
  if (names.length === 0) {
    problems.push(`--platform: expected all or one of ${PLATFORMS.join(', ')}`);
    return [];
  }
  if (names.includes('all')) return [...PLATFORMS];
  const chosen = new Set<Platform>();
  for (const name of names) {
    const platform = PLATFORMS.find((candidate) => candidate === name);
    if (platform === undefined) problems.push(`--platform: unknown platform "${name}"; expected all or a comma-separated list of ${PLATFORMS.join(', ')}`);
    else chosen.add(platform);
  }
  return PLATFORMS.filter((platform) => chosen.has(platform));
}

function parseReplicas(value: string | number | undefined, problems: string[]): number {
  if (value === undefined) return 1;
  const text = String(value).trim();
  const replicas = /^\d+$/.test(text) ? Number(text) : Number.NaN;
  if (!Number.isSafeInteger(replicas) || replicas < 1 || replicas > MAX_REPLICAS) {
    problems.push(`--replicas: expected a positive integer from 1 to ${MAX_REPLICAS}`);
    return 1;
  }
  return replicas;
}

function parseDomain(value: string | undefined, problems: string[]): string | undefined {
  if (value === undefined) return undefined;
  const domain = value.trim().toLowerCase();
  if (!DOMAIN.test(domain)) {
    problems.push('--domain: expected a host name like mcp.example.com (no scheme, port or path)');
    return undefined;
  }
  return domain;
}

/**
 * Where to write (`outDir`, anywhere the operator names) and how the files refer to each other
 * (`outPath`, from the repository root = the current directory). Outside the current directory
 * the files are written as if they lived at `deploy/` in the repository, so what is generated
 * never depends on where it was written (no absolute or `../` path is baked into any file).
 */
function parseOut(value: string | undefined, cwd: string, problems: string[]): { outDir: string; outPath: string; inside: boolean } {
  const outDir = resolve(cwd, value ?? DEFAULT_OUT);
  const fromRoot = relative(cwd, outDir);
  const inside = !(fromRoot === '..' || fromRoot.startsWith(`..${sep}`) || isAbsolute(fromRoot));
  const outPath = inside ? fromRoot.split(sep).join('/') : DEFAULT_OUT;
  if (!PLAIN_PATH.test(outPath)) {
    problems.push("--out: use only letters, digits, '.', '_', '-' and '/' inside the current directory (that path is written into the Dockerfile, Procfile and start script)");
  }
  return { outDir, outPath, inside };
}

function regenerateCommand(outPath: string, platforms: readonly Platform[], domain: string | undefined, replicas: number, image: string): string {
  const parts = ['mcp-warden deploy'];
  if (outPath !== DEFAULT_OUT) parts.push(`--out ${outPath === '' ? '.' : outPath}`);
  if (platforms.length !== PLATFORMS.length) parts.push(`--platform ${platforms.join(',')}`);
  if (domain !== undefined) parts.push(`--domain ${domain}`);
  if (replicas !== 1) parts.push(`--replicas ${replicas}`);
  if (image !== DEFAULT_IMAGE) parts.push(`--image ${image}`);
  return parts.join(' ');
}

/**
 * Validates the deploy options and builds the deployment.
 *
 * @example
 * const { deployment, outDir, inside } = buildDeployment({ platform: 'kubernetes', replicas: '3' }, process.cwd());
 * @throws ConfigError listing every invalid option.
 */
export function buildDeployment(input: DeployInput, cwd: string): { readonly deployment: Deployment; readonly outDir: string; readonly inside: boolean } {
  const problems: string[] = [];
  const { outDir, outPath, inside } = parseOut(input.out, cwd, problems);
  const platforms = parsePlatforms(input.platform ?? 'all', problems);
  const domain = parseDomain(input.domain, problems);
  const replicas = parseReplicas(input.replicas, problems);
  const image = input.image ?? DEFAULT_IMAGE;
  if (!IMAGE.test(image)) problems.push('--image: expected an image reference like registry.example.com/team/mcp-warden:1.0.0');
  const config = productionConfig(domain);
  // The server would refuse a config that fails its own option schemas: refuse to write one.
  for (const problem of configProblems(config)) problems.push(`generated config: ${problem}`);
  if (problems.length > 0) throw new ConfigError(problems);

  const deployment: Deployment = Object.freeze({
    platforms: Object.freeze(platforms),
    domain,
    replicas,
    image,
    config,
    outPath,
    command: regenerateCommand(outPath, platforms, domain, replicas, image),
  });
  return { deployment, outDir, inside };
}

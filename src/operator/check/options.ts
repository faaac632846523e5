/**
 * @module operator/check/options
 * Validates the options of `mcp-warden check` once, at the edge: every problem is collected
 * and reported together as a {@link CheckUsageError} (exit code 2), and the checks receive a
 * frozen {@link CheckOptions} they never need to re-validate.
 */

import { CHECK_NAMES, DEFAULT_CHECKS, type CheckName, type CheckOptions } from './types.js';

/** The foreign origin sent by default: `.invalid` never resolves (RFC 2606 §2), so it is nobody's. */
export const DEFAULT_ORIGIN = 'https://mcp-warden-check.invalid';
export const DEFAULT_TIMEOUT_MS = 5000;
export const DEFAULT_MAX_REQUESTS = 150;

const MIN_TIMEOUT_MS = 100;
const MAX_TIMEOUT_MS = 600_000;
const MAX_MAX_REQUESTS = 100_000;
// Visible ASCII only: anything else cannot travel in an Authorization header.
const HEADER_SAFE = /^[\x21-\x7e]+$/;

/** Options as the command line (or a test) gives them. */
export interface RawCheckOptions {
  readonly url?: string;
  readonly healthUrl?: string;
  readonly apiKey?: string;
  /** Names, each possibly comma-separated; `all` selects every check including `rate`. */
  readonly test?: string | readonly string[];
  readonly origin?: string;
  readonly timeout?: string | number;
  readonly maxRequests?: string | number;
  readonly callTools?: boolean;
}

/** Bad options: `problems` lists every one, each a full sentence for the user. */
export class CheckUsageError extends Error {
  readonly problems: readonly string[];

  constructor(problems: readonly string[]) {
    super(problems.join('\n'));
    this.name = 'CheckUsageError';
    this.problems = problems;
  }
}

function parseHttpUrl(value: string, flag: string, problems: string[]): URL | undefined {
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    problems.push(`${flag} must be an absolute http:// or https:// URL, got "${value}"`);
    return undefined;
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    problems.push(`${flag} must use http:// or https://, got ${url.protocol}//`);
    return undefined;
  }
  if (url.username !== '' || url.password !== '') {
    problems.push(`${flag} must not contain credentials; pass the key with --api-key`);
    return undefined;
  }
  url.hash = '';
  return url;
}

function parseInteger(value: string | number | undefined, fallback: number, flag: string, min: number, max: number, problems: string[]): number {
  if (value === undefined) return fallback;
  const text = String(value).trim();
  const number = /^\d+$/.test(text) ? Number(text) : Number.NaN;
  if (!Number.isSafeInteger(number) || number < min || number > max) {
    problems.push(`${flag} must be an integer from ${min} to ${max}, got "${text}"`);
    return fallback;
  }
  return number;
}

function parseTests(value: string | readonly string[] | undefined, problems: string[]): CheckName[] {
  if (value === undefined) return [...DEFAULT_CHECKS];
  const names = (typeof value === 'string' ? [value] : value)
    .flatMap((item) => item.split(','))
    .map((item) => item.trim().toLowerCase())
    .filter((item) => item.length > 0);
  if (names.length === 0) {
    problems.push(`--test needs at least one name: ${CHECK_NAMES.join(', ')} or all`);
    return [];
  }
  if (names.includes('all')) return [...CHECK_NAMES];
  const known = new Set<string>(CHECK_NAMES);
  for (const name of names) if (!known.has(name)) problems.push(`unknown test "${name}" for --test (known: ${CHECK_NAMES.join(', ')}, all)`);
  // Canonical order, duplicates removed: the report reads the same however the names were given.
  return CHECK_NAMES.filter((name) => names.includes(name));
}

function parseOrigin(value: string, target: URL | undefined, problems: string[]): string {
  let origin: string;
  try {
    const url = new URL(value);
    origin = url.origin;
    if ((url.protocol !== 'http:' && url.protocol !== 'https:') || value.replace(/\/$/, '') !== origin) throw new Error('not an origin');
  } catch {
    problems.push(`--origin must be an origin such as https://example.invalid (scheme, host and optional port), got "${value}"`);
    return DEFAULT_ORIGIN;
  }
  if (target !== undefined && origin === target.origin) problems.push('--origin must be foreign to the target; it names the origin the server must refuse');
  return origin;
}

/**
 * Validates raw options.
 *
 * @example
 * parseCheckOptions({ url: 'http://127.0.0.1:8443/mcp', test: ['auth,origin'] }).tests; // ['auth', 'origin']
 * @throws {CheckUsageError} listing every problem
 */
export function parseCheckOptions(raw: RawCheckOptions): Readonly<CheckOptions> {
  const problems: string[] = [];
  const url = raw.url === undefined ? (problems.push('--url is required (the MCP endpoint, e.g. http://127.0.0.1:8443/mcp)'), undefined) : parseHttpUrl(raw.url, '--url', problems);

  let healthUrl: URL | undefined;
  if (raw.healthUrl !== undefined) {
    // A bare path is taken relative to the MCP endpoint's origin.
    healthUrl = raw.healthUrl.startsWith('/') && url !== undefined ? new URL(raw.healthUrl, url.origin) : parseHttpUrl(raw.healthUrl, '--health-url', problems);
  } else if (url !== undefined) {
    healthUrl = new URL('/health', url.origin);
  }

  if (raw.apiKey !== undefined && raw.apiKey !== '' && !HEADER_SAFE.test(raw.apiKey)) problems.push('--api-key must be visible ASCII without spaces (it is sent in an Authorization header)');
  const tests = parseTests(raw.test, problems);
  const origin = parseOrigin(raw.origin ?? DEFAULT_ORIGIN, url, problems);
  const timeoutMs = parseInteger(raw.timeout, DEFAULT_TIMEOUT_MS, '--timeout', MIN_TIMEOUT_MS, MAX_TIMEOUT_MS, problems);
  const maxRequests = parseInteger(raw.maxRequests, DEFAULT_MAX_REQUESTS, '--max-requests', 1, MAX_MAX_REQUESTS, problems);

  if (problems.length > 0 || url === undefined || healthUrl === undefined) throw new CheckUsageError(problems);
  return Object.freeze({
    url,
    healthUrl,
    apiKey: raw.apiKey === '' ? undefined : raw.apiKey,
    tests,
    origin,
    timeoutMs,
    maxRequests,
    callTools: raw.callTools === true,
  });
}

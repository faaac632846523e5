/**
 * `node:fs` plus the one `globSync` form the conformance CLI uses (see register.mjs): its results
 * aggregator looks for every `checks.json` below a directory (the pattern is a double star, a
 * slash, then the file name). Only that pattern is supported; anything else throws, so a new call site in a later suite release fails loudly
 * instead of silently matching nothing.
 */
import fs from 'node:fs';
import path from 'node:path';

export * from 'node:fs';
export default fs;

export function globSync(pattern, options = {}) {
  const match = /^\*\*\/([^*?/[\]{}]+)$/.exec(pattern);
  if (!match) throw new Error(`node20-shim globSync: unsupported pattern ${JSON.stringify(pattern)}`);
  const cwd = options.cwd ?? process.cwd();
  return fs
    .readdirSync(cwd, { recursive: true })
    .map(String)
    .filter((file) => path.basename(file) === match[1]);
}

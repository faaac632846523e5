/**
 * Node 20 shim for the conformance CLI (test harness only; never loaded by mcp-warden itself).
 *
 * `@modelcontextprotocol/conformance` 0.2.0-alpha.12 is built for Node 22: the first line of its
 * `dist/index.js` imports `globSync` from `fs`, which Node 20 does not export, so the CLI dies with
 * "The requested module 'fs' does not provide an export named 'globSync'" before doing anything.
 * mcp-warden supports Node 20, so the harness loads this file first:
 *
 *   node --import ./test/conformance/node20-shim/register.mjs \
 *     node_modules/@modelcontextprotocol/conformance/dist/index.js server --url ...
 *
 * It registers a module resolve hook (hooks.mjs) that hands the conformance package, and only that
 * package, a copy of `fs` with a minimal `globSync` (fs-glob.mjs). On Node 22+ the hook is skipped
 * and the real `fs.globSync` is used. Written by hand: it is three small files, and a glob library
 * would still need the same loader hook to reach the CLI's import.
 */
import fs from 'node:fs';
import { register } from 'node:module';

if (typeof fs.globSync !== 'function') {
  register('./hooks.mjs', import.meta.url);
}

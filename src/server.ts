/**
 * @module server
 * The composition root's public face: {@link createServer} and its types, built in
 * `server/` (one module per concern, wired by `server/index.ts`). The CLI and the library
 * API both go through it.
 */

export { createServer } from './server/index.js';
export type { WardenServer, WardenServerOptions, FactoryContext, WardenServerFactory } from './server/index.js';

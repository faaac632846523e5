/**
 * @module http/routes/public
 * Public routes: `GET /health` (a liveness probe with a minimal body), `GET /ready` (readiness:
 * 503 until the shared state is synced), `GET /` (the home page)
 * and `/assets/*` (the page's own stylesheet and scripts, read once at start, no CDN).
 */

import { readdirSync, readFileSync } from 'node:fs';
import { extname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { FastifyInstance } from 'fastify';
import { PAGE_CSP, renderHomePage, type PageInfo } from '../page.js';

const CONTENT_TYPES: Readonly<Record<string, string>> = {
  '.css': 'text/css; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.svg': 'image/svg+xml',
};

/** The folder of static assets shipped with the package. */
export const ASSETS_DIR = fileURLToPath(new URL('../../../public/', import.meta.url));

function loadAssets(dir: string): Map<string, { type: string; body: Buffer }> {
  const assets = new Map<string, { type: string; body: Buffer }>();
  let names: string[];
  try {
    names = readdirSync(dir);
  } catch {
    return assets;
  }
  for (const name of names) {
    const type = CONTENT_TYPES[extname(name)];
    if (type !== undefined) assets.set(name, { type, body: readFileSync(join(dir, name)) });
  }
  return assets;
}

export interface PublicRouteOptions {
  /** Page facts; `host` is the request's (validated) Host header. */
  readonly pageInfo: (host: string | undefined, protocol: string) => PageInfo;
  readonly assetsDir?: string;
  /** `ok`, or `degraded` with a reason (e.g. Redis unreachable); the server answers either way. */
  readonly health?: () => { readonly status: 'ok' | 'degraded'; readonly reason?: string };
  /** Readiness: `synced`, `unsynced` (serving before the shared state synced) or `starting` (503). */
  readonly readiness?: () => 'synced' | 'unsynced' | 'starting';
}

export function registerPublicRoutes(app: FastifyInstance, options: PublicRouteOptions): void {
  const assets = loadAssets(options.assetsDir ?? ASSETS_DIR);

  const OK = '{"status":"ok"}';
  app.get('/health', { config: { probe: true } }, (_request, reply) => {
    const report = options.health?.();
    // Degraded is still alive (200): restarting a replica does not bring Redis back.
    reply.type('application/json; charset=utf-8').send(report === undefined || report.status === 'ok' ? OK : JSON.stringify(report));
  });

  // Readiness (for load balancers and Kubernetes): 503 until the start-up sync of the shared
  // state completed, so no traffic reaches a replica that does not know the revocations yet.
  app.get('/ready', { config: { probe: true } }, (_request, reply) => {
    const state = options.readiness?.() ?? 'synced';
    reply
      .code(state === 'starting' ? 503 : 200)
      .header('cache-control', 'no-store')
      .type('application/json; charset=utf-8')
      .send(state === 'synced' ? '{"status":"ready"}' : state === 'unsynced' ? '{"status":"ready","synced":false}' : '{"status":"starting","reason":"shared_state_sync"}');
  });

  app.get('/', (request, reply) => {
    reply
      .header('content-security-policy', PAGE_CSP)
      .header('cache-control', 'no-cache')
      .type('text/html; charset=utf-8')
      .send(renderHomePage(options.pageInfo(request.headers.host, request.protocol)));
  });

  app.get<{ Params: { name: string } }>('/assets/:name', (request, reply) => {
    const asset = assets.get(request.params.name);
    if (asset === undefined) {
      reply.callNotFound();
      return;
    }
    reply.header('cache-control', 'public, max-age=300').type(asset.type).send(asset.body);
  });
}

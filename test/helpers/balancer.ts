/**
 * A load balancer for replica tests: a loopback HTTP server at the public origin that forwards
 * each request, whole, to the replica `route` picks (by method and path), and records which
 * replica served what. Hand-written (node:http, ~50 lines) because the tests need to steer one
 * path (say the identity provider's callback) to another replica than the rest, which no
 * round-robin proxy would do on purpose. Stopped when the test ends.
 */

import { createServer, request as httpRequest, type IncomingMessage } from 'node:http';
import { onTestFinished } from 'vitest';
import { freePort } from './port.js';

export interface Balancer {
  /** The public origin (`http://127.0.0.1:<port>`). */
  readonly url: string;
  /** `<replica name> <METHOD> <path without query>` of every request forwarded, in order. */
  readonly served: string[];
}

/** Starts the balancer on `port` (default: a free one); `replicas` maps names to base URLs. */
export async function useBalancer(replicas: Readonly<Record<string, string>>, route: (method: string, path: string) => string, port?: number): Promise<Balancer> {
  const listenPort = port ?? (await freePort());
  const served: string[] = [];
  const server = createServer((incoming: IncomingMessage, outgoing) => {
    const path = (incoming.url ?? '/').split('?')[0] ?? '/';
    const name = route(incoming.method ?? 'GET', path);
    const target = new URL(replicas[name] as string);
    served.push(`${name} ${incoming.method} ${path}`);
    // The replica sees the Host it listens on (as behind a proxy that rewrites it); cookies and everything else pass unchanged.
    const upstream = httpRequest(
      { host: target.hostname, port: target.port, path: incoming.url, method: incoming.method, headers: { ...incoming.headers, host: target.host }, agent: false },
      (answer) => {
        outgoing.writeHead(answer.statusCode ?? 502, answer.headers);
        answer.pipe(outgoing);
      },
    );
    upstream.on('error', () => {
      outgoing.writeHead(502).end();
    });
    incoming.pipe(upstream);
  });
  await new Promise<void>((resolve) => server.listen(listenPort, '127.0.0.1', resolve));
  onTestFinished(async () => {
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  });
  return { url: `http://127.0.0.1:${listenPort}`, served };
}

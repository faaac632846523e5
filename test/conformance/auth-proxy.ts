/**
 * A loopback reverse proxy that adds `Authorization: Bearer <key>` to every request, so the
 * conformance suite (whose CLI has no header option) can run against mcp-warden with an API key
 * required. Everything else passes through byte for byte, including `Host` and `Origin`: the
 * `dns-rebinding-protection` scenario sends a foreign Host/Origin, and it must reach mcp-warden's
 * own guard, not be rewritten here. Hand-written on node:http (about thirty lines); a proxy library
 * would rewrite Host by default, which is exactly what this must not do.
 */

import * as http from 'node:http';
import type { AddressInfo } from 'node:net';

export interface AuthProxy {
  /** `http://127.0.0.1:<port>`; append the target's path (`/mcp`). */
  readonly url: string;
  close(): Promise<void>;
}

/** Starts the proxy on an ephemeral loopback port in front of `target` (an `http://` origin). */
export async function startAuthProxy(target: string, key: string): Promise<AuthProxy> {
  const { hostname, port } = new URL(target);
  const server = http.createServer((request, response) => {
    const headers = { ...request.headers, authorization: `Bearer ${key}` };
    const upstream = http.request({ hostname, port, method: request.method, path: request.url, headers }, (answer) => {
      response.writeHead(answer.statusCode ?? 502, answer.headers);
      answer.pipe(response);
    });
    upstream.on('error', () => response.destroy());
    // A client that goes away (a closed SSE stream) closes the upstream request too.
    response.on('close', () => upstream.destroy());
    request.pipe(upstream);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

/**
 * @module operator/check/reach
 * A TCP connect to the target before any check runs: when nothing listens there, the audit
 * says so once ("cannot reach http://127.0.0.1:8443/mcp: connection refused") instead of
 * letting every check wait for its own timeout.
 */

import { connect } from 'node:net';
import { displayUrl, ProbeError, toProbeError } from './net-errors.js';

function portOf(url: URL): number {
  if (url.port !== '') return Number(url.port);
  return url.protocol === 'https:' ? 443 : 80;
}

/** Resolves when a TCP connection to `url`'s host and port opens within `timeoutMs`. */
export function assertReachable(url: URL, timeoutMs: number): Promise<void> {
  const shown = displayUrl(url);
  return new Promise((resolve, reject) => {
    const socket = connect({ host: url.hostname.replace(/^\[(.*)\]$/, '$1'), port: portOf(url) });
    const timer = setTimeout(() => {
      socket.destroy();
      reject(new ProbeError('unreachable', shown, `no connection within ${timeoutMs} ms`));
    }, timeoutMs);
    socket.once('connect', () => {
      clearTimeout(timer);
      socket.destroy();
      resolve();
    });
    socket.once('error', (error) => {
      clearTimeout(timer);
      socket.destroy();
      reject(toProbeError(error, shown));
    });
  });
}

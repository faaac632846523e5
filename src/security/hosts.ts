/**
 * @module security/hosts
 * DNS-rebinding protection (MCP Streamable HTTP transport, "Security Warning": servers MUST
 * validate the Origin header; when running locally they SHOULD bind to localhost).
 *
 * A rebinding attack points an attacker's host name at 127.0.0.1, so the browser sends
 * `Host: evil.example` to our loopback socket. While bound to loopback we therefore accept only
 * loopback names (and configured allowed hosts) in `Host`, and an `Origin` only when it is
 * listed or is this server's own origin.
 */

import { isIP } from 'node:net';

const LOOPBACK_NAMES = new Set(['localhost', '127.0.0.1', '::1', '[::1]']);

/** True for bind addresses and host names that only reach this machine. */
export function isLoopbackHost(host: string): boolean {
  const name = host.toLowerCase();
  if (LOOPBACK_NAMES.has(name) || name.endsWith('.localhost')) return true;
  if (isIP(name) === 4) return name.startsWith('127.');
  if (name.startsWith('::ffff:')) return isLoopbackHost(name.slice(7));
  return false;
}

/** The host name of a `Host` header value, lowercased, without port or IPv6 brackets. */
export function hostNameOf(hostHeader: string): string {
  const value = hostHeader.trim().toLowerCase();
  if (value.startsWith('[')) {
    const end = value.indexOf(']');
    return end === -1 ? value : value.slice(1, end);
  }
  const colon = value.lastIndexOf(':');
  return colon === -1 ? value : value.slice(0, colon);
}

export interface HostGuardOptions {
  /** The address the server is bound to. */
  readonly bindHost: string;
  /** Extra accepted `Host` values (`name` or `name:port`). When non-empty, enforced on any bind address. */
  readonly allowedHosts: readonly string[];
}

/**
 * Creates the Host-header check.
 *
 * @example
 * const hostAllowed = createHostGuard({ bindHost: '127.0.0.1', allowedHosts: [] });
 * hostAllowed('localhost:8443'); // true
 * hostAllowed('evil.example');   // false
 */
export function createHostGuard(options: HostGuardOptions): (hostHeader: string | undefined) => boolean {
  const exact = new Set(options.allowedHosts.map((host) => host.toLowerCase()));
  const names = new Set(options.allowedHosts.filter((host) => !/:\d+$/.test(host) || host.endsWith(']')).map((host) => hostNameOf(host)));
  const enforce = isLoopbackHost(options.bindHost) || exact.size > 0;
  if (!enforce) return function anyHost(): boolean {
    return true;
  };
  return function hostAllowed(hostHeader: string | undefined): boolean {
    // HTTP/1.1 requires Host (RFC 9112 §3.2); a request without it cannot prove where it was sent.
    if (hostHeader === undefined || hostHeader === '') return false;
    const lowered = hostHeader.toLowerCase();
    if (exact.has(lowered)) return true;
    const name = hostNameOf(lowered);
    return LOOPBACK_NAMES.has(name) || names.has(name);
  };
}

export interface OriginGuardOptions {
  /** Origins allowed by configuration (`--cors-origin`). */
  readonly allowedOrigins: readonly string[];
  /** External base URL; its origin is this server's own. */
  readonly publicUrl?: string | undefined;
}

/**
 * Creates the Origin check. A request without `Origin` passes (non-browser clients send none);
 * one with an `Origin` passes when the origin is listed, is the public URL's origin, or is the
 * same origin as the request's (already validated) `Host`.
 */
export function createOriginGuard(options: OriginGuardOptions): (origin: string | undefined, hostHeader: string | undefined) => boolean {
  const allowed = new Set(options.allowedOrigins.map((origin) => origin.toLowerCase().replace(/\/$/, '')));
  if (options.publicUrl !== undefined) allowed.add(new URL(options.publicUrl).origin.toLowerCase());
  return function originAllowed(origin: string | undefined, hostHeader: string | undefined): boolean {
    if (origin === undefined) return true;
    const lowered = origin.toLowerCase();
    if (allowed.has(lowered)) return true;
    if (hostHeader === undefined) return false;
    // Same-origin requests from our own pages: Origin is scheme://<Host>.
    const host = hostHeader.toLowerCase();
    return lowered === `http://${host}` || lowered === `https://${host}`;
  };
}

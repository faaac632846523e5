/**
 * @module gateway/wire
 * What a failed upstream call becomes on the gateway's own wire: a JSON-RPC error a client can
 * act on, naming the upstream, never its stack, output or library message.
 *
 * - a gateway failure (`WARDEN_ERR_UPSTREAM_*`: down, timed out, too large, busy, at capacity,
 *   a held tool, a withheld result) → its code's public message and `(upstream "<name>")`,
 *   `data: { warden, upstream }` ({@link upstreamWireError}; the response policy rebuilds the
 *   same error from constants, so nothing else passes);
 * - an error the upstream answered itself (`ProtocolError`: unknown tool, invalid params) → its
 *   JSON-RPC code (the policy replaces the message with the code's generic one);
 * - the upstream lacking the capability asked for → method not found;
 * - anything else (a closed pool, a library error) → upstream unavailable.
 */

import { ProtocolError, SdkError, SdkErrorCode } from '@modelcontextprotocol/server';
import { isWardenError, upstreamWireError, UPSTREAM_WIRE_CODES, type WardenErrorCode } from '../errors.js';
import { RPC } from '../wire-codes.js';

/** Errors built here: passed on as they are (an upstream's own errors lose their data). */
const ours = new WeakSet<ProtocolError>();

function own(error: ProtocolError): ProtocolError {
  ours.add(error);
  return error;
}

/** The error a handler throws for a gateway failure of `upstream` (see the module header). */
export function gatewayError(code: WardenErrorCode, upstream: string): ProtocolError {
  const wire = upstreamWireError(code, upstream);
  if (wire === undefined) return own(new ProtocolError(RPC.INTERNAL_ERROR, 'Internal error'));
  return own(new ProtocolError(wire.code, wire.message, wire.data));
}

/** What `error`, thrown while serving a request through `upstream`, is answered with. */
export function toWireError(error: unknown, upstream: string): ProtocolError {
  if (error instanceof ProtocolError && ours.has(error)) return error;
  if (isWardenError(error)) return gatewayError(UPSTREAM_WIRE_CODES.has(error.code) ? error.code : 'WARDEN_ERR_UPSTREAM_UNAVAILABLE', upstream);
  // The upstream's own answer: its code only (its message and data are the upstream's words).
  if (error instanceof ProtocolError) return new ProtocolError(error.code, error.message);
  if (error instanceof SdkError && error.code === SdkErrorCode.CapabilityNotSupported) return new ProtocolError(RPC.METHOD_NOT_FOUND, 'Method not found');
  return gatewayError('WARDEN_ERR_UPSTREAM_UNAVAILABLE', upstream);
}

/** A short, tagged description of a failure for the log (code and reason, never a payload). */
export function describeFailure(error: unknown): Record<string, unknown> {
  if (isWardenError(error)) return { code: error.code, reason: error.reason };
  if (error instanceof ProtocolError) return { rpcCode: error.code };
  if (error instanceof SdkError) return { sdkCode: error.code };
  return { error: error instanceof Error ? error.name : typeof error };
}

/** `-32602` for a served name no upstream of the endpoint has (or a tool its connection never listed). */
export function unknownName(kind: 'tool' | 'prompt'): ProtocolError {
  return own(new ProtocolError(RPC.INVALID_PARAMS, kind === 'tool' ? 'Unknown tool' : 'Unknown prompt'));
}

/** `-32002` for a URI no upstream of the endpoint claims (or two claim). */
export function unknownResource(): ProtocolError {
  return own(new ProtocolError(RPC.RESOURCE_NOT_FOUND, 'Resource not found'));
}

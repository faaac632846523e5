/**
 * @module operator/check/checks/rate
 * `rate` (opt-in: it spends the target's quota): sends up to `--max-requests` small POSTs to
 * the MCP endpoint and expects a 429 with `Retry-After` before the budget runs out (OWASP
 * API4:2023; RFC 6585 §4; RFC 9110 §10.2.3). The requests carry the key when one is given,
 * so they count as the client's own traffic; they open no sessions.
 */

import type { ProbeResponse } from '../probe.js';
import { REF } from '../references.js';
import { rpcRequest } from '../rpc.js';
import { postHeaders } from '../session.js';
import type { CheckDefinition, CheckOutcome } from '../types.js';

/** Requests in flight at once: fast enough over a WAN, gentle enough for any server. */
const CONCURRENCY = 4;

/** True for a Retry-After value: delay-seconds or an HTTP-date (RFC 9110 §10.2.3). */
export function isValidRetryAfter(value: string | undefined): boolean {
  if (value === undefined) return false;
  const trimmed = value.trim();
  return /^\d+$/.test(trimmed) || (/[A-Za-z]/.test(trimmed) && !Number.isNaN(Date.parse(trimmed)));
}

export const rateCheck: CheckDefinition = {
  name: 'rate',
  summary: 'opt-in: up to --max-requests requests get a 429 with Retry-After (spends the quota)',
  reference: REF.rate,
  usesEras: false,
  async run({ http, options }): Promise<CheckOutcome> {
    const headers = postHeaders(options.apiKey);
    let sent = 0;
    let limited: { response: ProbeResponse; at: number } | undefined;
    const statuses = new Map<number, number>();

    const worker = async (): Promise<void> => {
      while (limited === undefined && sent < options.maxRequests) {
        const index = ++sent;
        const response = await http.request({ url: options.url, method: 'POST', headers, body: rpcRequest(index, 'ping') });
        statuses.set(response.status, (statuses.get(response.status) ?? 0) + 1);
        if (response.status === 429 && limited === undefined) limited = { response, at: index };
      }
    };
    await Promise.all(Array.from({ length: Math.min(CONCURRENCY, options.maxRequests) }, worker));

    const details: Record<string, unknown> = { sent, statuses: Object.fromEntries(statuses) };
    if (limited === undefined) {
      return { status: 'FAIL', reason: `no 429 after ${sent} requests: no rate limit within --max-requests ${options.maxRequests}`, reference: REF.rate, details };
    }
    const { response, at } = limited;
    const retryAfter = response.header('retry-after');
    const policy = response.header('ratelimit-policy') ?? response.header('ratelimit-limit') ?? response.header('x-ratelimit-limit');
    Object.assign(details, { limitedAt: at, retryAfter, rateLimitHeader: policy });
    if (!isValidRetryAfter(retryAfter)) {
      return { status: 'WARN', reason: `429 after ${at} requests, but without a valid Retry-After`, reference: REF.rate, details };
    }
    return {
      status: 'PASS',
      reason: `429 after ${at} requests with Retry-After: ${retryAfter?.trim()} (this client's quota is now spent)`,
      reference: REF.rate,
      details,
    };
  },
};

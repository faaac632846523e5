/**
 * @module operator/check/checks/auth
 * `auth`: the MCP endpoint refuses requests without a key or with a wrong one (401 with a
 * `WWW-Authenticate: Bearer` challenge, RFC 6750 §3.1), accepts the given key, and does not
 * read keys from the query string (RFC 6750 §2.3: URLs end up in logs and referrers).
 * Every probe is an initialize, the one request every 2025-era server must handle (a
 * `server/discover` on a server that speaks only 2026-07-28); sessions that a probe opens are
 * closed again.
 */

import { randomBytes } from 'node:crypto';
import { banHint, rateLimited } from '../net-errors.js';
import type { ProbeResponse } from '../probe.js';
import { REF } from '../references.js';
import { admissionRequest } from '../eras.js';
import { closeIfOpened } from '../session.js';
import { combine, step } from '../steps.js';
import type { CheckContext, CheckDefinition, CheckOutcome, Step } from '../types.js';

/** Query parameters servers commonly (and wrongly) read keys from. */
const QUERY_KEY_NAMES = ['access_token', 'api_key', 'apiKey', 'key', 'token'];

function isSuccess(status: number): boolean {
  return status >= 200 && status <= 299;
}

/** True when a WWW-Authenticate value offers the Bearer scheme (possibly among others). */
export function hasBearerChallenge(value: string | undefined): boolean {
  return value !== undefined && /(?:^|,)\s*bearer(?:\s|,|$)/i.test(value);
}

/** POSTs the admission request (initialize, or discover on a modern-only server) with `key`; a session it opens is closed with `closeKey` (default `key`). */
async function post(context: CheckContext, url: URL, key: string | undefined, closeKey = key): Promise<ProbeResponse> {
  const response = await context.http.request({ url, method: 'POST', ...admissionRequest(context, key) });
  await closeIfOpened(context, response, closeKey);
  return response;
}

/** The verdict on a request that should have been refused with 401. */
function refusedStep(name: string, label: string, response: ProbeResponse, requireChallenge: boolean): Step {
  const { status } = response;
  if (isSuccess(status)) return step(name, 'FAIL', `${label} → ${status}: accepted without a valid key`);
  if (status === 429) return step(name, 'SKIP', `${label}: ${rateLimited(response.header('retry-after'))}`);
  if (status !== 401) return step(name, 'WARN', `${label} → ${status}, expected 401${banHint(status, response.header('retry-after'))}`);
  if (requireChallenge && !hasBearerChallenge(response.header('www-authenticate'))) {
    return step(name, 'FAIL', `${label} → 401 without a WWW-Authenticate: Bearer challenge`);
  }
  return step(name, 'PASS', requireChallenge ? `${label} → 401 with a Bearer challenge` : `${label} → 401`);
}

export const authCheck: CheckDefinition = {
  name: 'auth',
  summary: 'no key and a wrong key get 401 with a Bearer challenge; the given key works; a key in the query string does not',
  reference: REF.auth,
  usesEras: true,
  async run(context): Promise<CheckOutcome> {
    const { url, apiKey } = context.options;
    const steps: Step[] = [];

    const anonymous = await post(context, url, undefined);
    steps.push(refusedStep('no key', 'no key', anonymous, true));
    const open = isSuccess(anonymous.status);

    const wrongKey = `mcp-warden-check-${randomBytes(16).toString('hex')}`;
    steps.push(refusedStep('wrong key', 'a wrong key', await post(context, url, wrongKey), true));

    if (apiKey === undefined) {
      steps.push(step('given key', 'SKIP', 'acceptance of the key (no --api-key given)'));
      steps.push(step('query key', 'SKIP', 'a key in the query string (no --api-key given)'));
    } else {
      const accepted = await post(context, url, apiKey);
      if (isSuccess(accepted.status)) steps.push(step('given key', 'PASS', `the given key → ${accepted.status}`));
      else if (accepted.status === 429) steps.push(step('given key', 'SKIP', `the given key: ${rateLimited(accepted.header('retry-after'))}`));
      else {
        const hint = banHint(accepted.status, accepted.header('retry-after'));
        steps.push(step('given key', 'FAIL', `the given key → ${accepted.status}: refused${hint === '' ? ' (is it a valid key for this server?)' : hint}`));
      }

      if (open) {
        steps.push(step('query key', 'SKIP', 'a key in the query string (meaningless: no key is needed at all)'));
      } else {
        const inQuery = new URL(url);
        for (const name of QUERY_KEY_NAMES) inQuery.searchParams.set(name, apiKey);
        // Accepted or not, the session (if any) belongs to the key: close it with the header.
        const response = await post(context, inQuery, undefined, apiKey);
        if (isSuccess(response.status)) {
          steps.push(step('query key', 'FAIL', `a key in the query string → ${response.status}: accepted (keys in URLs leak through logs)`));
        } else if (response.status === 429) {
          steps.push(step('query key', 'SKIP', `a key in the query string: ${rateLimited(response.header('retry-after'))}`));
        } else {
          steps.push(step('query key', response.status === 401 ? 'PASS' : 'WARN', `a key in the query string → ${response.status}`));
        }
      }
    }
    return combine(steps, REF.auth, { authenticationRequired: !open });
  },
};

/**
 * @module operator/check/checks/cors
 * `cors`: a foreign origin gets no `Access-Control-Allow-Origin`, neither on a preflight nor
 * on the request itself. A reflected origin, `*` or `null` would let any web page call the
 * server from a visitor's browser (Fetch Standard §CORS protocol).
 */

import type { ProbeResponse } from '../probe.js';
import { REF } from '../references.js';
import { admissionRequest } from '../eras.js';
import { closeIfOpened } from '../session.js';
import { combine, step } from '../steps.js';
import type { CheckDefinition, CheckOutcome, Step } from '../types.js';

/** The request headers an MCP browser client would ask to send. */
const REQUESTED_HEADERS = 'authorization, content-type, mcp-session-id, mcp-protocol-version';

function verdict(name: string, label: string, response: ProbeResponse, origin: string): Step {
  const allowed = response.header('access-control-allow-origin');
  const credentials = response.header('access-control-allow-credentials')?.trim().toLowerCase() === 'true';
  if (allowed === undefined) return step(name, 'PASS', `${label} → ${response.status} without Access-Control-Allow-Origin`);
  const value = allowed.trim();
  const withCredentials = credentials ? ' with credentials' : '';
  if (value === '*') return step(name, 'FAIL', `${label} → Access-Control-Allow-Origin: *${withCredentials}: any web page may call this server`);
  if (value.toLowerCase() === 'null') return step(name, 'FAIL', `${label} → Access-Control-Allow-Origin: null: sandboxed pages may call this server`);
  if (value.toLowerCase() === origin.toLowerCase()) {
    return step(name, 'FAIL', `${label} → the foreign origin is allowed${withCredentials} (Access-Control-Allow-Origin reflects it)`);
  }
  return step(name, 'PASS', `${label} → ${response.status}, access granted only to another origin`);
}

export const corsCheck: CheckDefinition = {
  name: 'cors',
  summary: "a foreign origin's preflight and request get no Access-Control-Allow-Origin",
  reference: REF.cors,
  usesEras: true,
  async run(context): Promise<CheckOutcome> {
    const { url, apiKey, origin } = context.options;
    const steps: Step[] = [];
    const preflight = await context.http.request({
      url,
      method: 'OPTIONS',
      headers: { origin, 'access-control-request-method': 'POST', 'access-control-request-headers': REQUESTED_HEADERS },
    });
    steps.push(verdict('preflight', 'preflight from a foreign origin', preflight, origin));

    const actual = await context.http.request({ url, method: 'POST', ...admissionRequest(context, apiKey, { origin }) });
    await closeIfOpened(context, actual, apiKey);
    steps.push(verdict('request', 'POST from a foreign origin', actual, origin));
    return combine(steps, REF.cors, { origin });
  },
};

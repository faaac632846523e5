/**
 * @module operator/check/checks/origin
 * `origin`: a request from a foreign `Origin` is refused with 403. The MCP transport spec
 * requires servers to validate `Origin` so that a web page cannot reach a local server
 * through DNS rebinding (MCP Transports §Security Warning). A 403 counts only when the same
 * request without `Origin` is not refused with 403 too (a banned or IP-blocked client gets
 * 403 for everything, which proves nothing about Origin validation).
 */

import { banHint, rateLimited } from '../net-errors.js';
import type { ProbeResponse } from '../probe.js';
import { REF } from '../references.js';
import { admissionRequest } from '../eras.js';
import { closeIfOpened } from '../session.js';
import { combine, step } from '../steps.js';
import type { CheckContext, CheckDefinition, CheckOutcome, Step } from '../types.js';

async function admitWith(context: CheckContext, extra: Record<string, string>): Promise<ProbeResponse> {
  const { url, apiKey } = context.options;
  const response = await context.http.request({ url, method: 'POST', ...admissionRequest(context, apiKey, extra) });
  await closeIfOpened(context, response, apiKey);
  return response;
}

async function verdict(context: CheckContext): Promise<Step> {
  const { apiKey, origin } = context.options;
  const label = `Origin: ${origin}`;
  const response = await admitWith(context, { origin });
  const { status } = response;
  if (status >= 200 && status <= 299) return step('foreign origin', 'FAIL', `${label} → ${status}: accepted (DNS rebinding is possible)`);
  if (status === 401 && apiKey === undefined) {
    return step('foreign origin', 'SKIP', `${label} → 401: the key is checked first; pass --api-key to test Origin validation`);
  }
  if (status === 429) return step('foreign origin', 'SKIP', `${label}: ${rateLimited(response.header('retry-after'))}`);
  if (status !== 403) return step('foreign origin', 'WARN', `${label} → ${status}: refused, but the spec requires 403`);
  const control = await admitWith(context, {});
  if (control.status === 403) {
    return step('foreign origin', 'SKIP', `even a request without Origin → 403, so the 403 proves nothing${banHint(403, control.header('retry-after'))}`);
  }
  return step('foreign origin', 'PASS', `${label} → 403 (without Origin → ${control.status})`);
}

export const originCheck: CheckDefinition = {
  name: 'origin',
  summary: 'a request with a foreign Origin is refused with 403 (DNS-rebinding protection)',
  reference: REF.origin,
  usesEras: true,
  async run(context): Promise<CheckOutcome> {
    return combine([await verdict(context)], REF.origin, { origin: context.options.origin });
  },
};

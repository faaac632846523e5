/**
 * @module operator/check/checks/headers
 * `headers`: every response examined (the health endpoint, an unauthenticated POST, an
 * authenticated initialize, or a discover on a modern-only server) carries
 * `X-Content-Type-Options: nosniff` and denies framing
 * (`X-Frame-Options: DENY|SAMEORIGIN` or CSP `frame-ancestors`), and none carries
 * `X-Powered-By` (OWASP Secure Headers Project). Plain `http://` to a host that is not
 * loopback is a warning: the key would travel in cleartext (RFC 6750 §5.3).
 */

import { isLoopbackHost } from '../../../security/hosts.js';
import type { ProbeResponse } from '../probe.js';
import { REF } from '../references.js';
import { admissionRequest } from '../eras.js';
import { closeIfOpened } from '../session.js';
import { combine, step } from '../steps.js';
import type { CheckContext, CheckDefinition, CheckOutcome, Step } from '../types.js';

/** Longest header value quoted in a reason. */
const MAX_QUOTED = 60;

function label(response: ProbeResponse): string {
  return `${response.method} ${new URL(response.url).pathname} (${response.status})`;
}

export function deniesFraming(response: ProbeResponse): boolean {
  const frameOptions = response.header('x-frame-options')?.trim().toUpperCase();
  if (frameOptions === 'DENY' || frameOptions === 'SAMEORIGIN') return true;
  return /(?:^|;)\s*frame-ancestors\s/i.test(response.header('content-security-policy') ?? '');
}

function propertyStep(name: string, responses: readonly ProbeResponse[], holds: (response: ProbeResponse) => boolean, good: string, bad: string): Step {
  const missing = responses.filter((response) => !holds(response));
  if (missing.length === 0) return step(name, 'PASS', good);
  return step(name, 'FAIL', `${bad} on ${missing.map(label).join(', ')}`);
}

async function collect(context: CheckContext): Promise<ProbeResponse[]> {
  const { http, options } = context;
  const responses = [await http.request({ url: options.healthUrl })];
  const anonymous = await http.request({ url: options.url, method: 'POST', ...admissionRequest(context, undefined) });
  await closeIfOpened(context, anonymous, undefined);
  responses.push(anonymous);
  if (options.apiKey !== undefined && !(anonymous.status >= 200 && anonymous.status <= 299)) {
    const keyed = await http.request({ url: options.url, method: 'POST', ...admissionRequest(context, options.apiKey) });
    await closeIfOpened(context, keyed, options.apiKey);
    responses.push(keyed);
  }
  return responses;
}

export function transportStep(url: URL): Step {
  const host = url.hostname.replace(/^\[(.*)\]$/, '$1');
  if (url.protocol === 'https:') return step('transport', 'PASS', 'https');
  if (isLoopbackHost(host)) return step('transport', 'PASS', 'plain http on loopback');
  return step('transport', 'WARN', `plain http:// to ${host}, which is not loopback: keys and data travel in cleartext (${REF.transport})`);
}

export const headersCheck: CheckDefinition = {
  name: 'headers',
  summary: 'nosniff and frame denial on every response, no X-Powered-By; plain http to a non-loopback host is a warning',
  reference: REF.headers,
  usesEras: true,
  async run(context): Promise<CheckOutcome> {
    const responses = await collect(context);
    const steps: Step[] = [
      propertyStep('nosniff', responses, (r) => r.header('x-content-type-options')?.trim().toLowerCase() === 'nosniff', 'nosniff', 'no X-Content-Type-Options: nosniff'),
      propertyStep('frame denial', responses, deniesFraming, 'framing denied', 'no X-Frame-Options or CSP frame-ancestors'),
      propertyStep('x-powered-by', responses, (r) => r.header('x-powered-by') === undefined, 'no X-Powered-By', 'X-Powered-By present (it names the stack)'),
    ];
    const versioned = responses.map((r) => r.header('server')).find((value) => value !== undefined && /\d/.test(value));
    if (versioned !== undefined) steps.push(step('server', 'WARN', `Server: ${versioned.slice(0, MAX_QUOTED)} reveals a version`));
    steps.push(transportStep(context.options.url));
    const poweredBy = responses.map((r) => r.header('x-powered-by')).find((value) => value !== undefined);
    return combine(steps, REF.headers, {
      examined: responses.map(label),
      ...(poweredBy === undefined ? {} : { poweredBy: poweredBy.slice(0, MAX_QUOTED) }),
    });
  },
};

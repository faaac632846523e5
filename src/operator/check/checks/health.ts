/**
 * @module operator/check/checks/health
 * `health`: the public health endpoint answers without credentials, as orchestrator probes
 * need. A missing endpoint is a warning (it may live elsewhere: `--health-url`).
 */

import { REF } from '../references.js';
import type { CheckDefinition, CheckOutcome } from '../types.js';

export const healthCheck: CheckDefinition = {
  name: 'health',
  summary: 'the public health endpoint answers 2xx without credentials',
  reference: REF.health,
  usesEras: false,
  async run({ http, options }): Promise<CheckOutcome> {
    const response = await http.request({ url: options.healthUrl, headers: { accept: 'application/json' } });
    const path = options.healthUrl.pathname;
    const details = { url: response.url, status: response.status, durationMs: response.durationMs };
    if (response.status >= 200 && response.status <= 299) {
      return { status: 'PASS', reason: `GET ${path} → ${response.status} in ${response.durationMs} ms`, reference: REF.health, details };
    }
    if (response.status === 404) {
      return {
        status: 'WARN',
        reason: `GET ${path} → 404: no health endpoint there (use --health-url if it lives elsewhere)`,
        reference: REF.health,
        details,
      };
    }
    const why = response.status === 401 || response.status === 403 ? ': it should be public for probes' : '';
    return { status: 'FAIL', reason: `GET ${path} → ${response.status}${why}`, reference: REF.health, details };
  },
};

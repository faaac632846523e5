/**
 * @module operator/check/checks/errors
 * `errors`: provokes error answers (malformed JSON, deep nesting, a non-JSON-RPC body, a
 * wrong content type, an unknown path) and checks that none of their bodies carries a stack
 * trace or a file path (FAIL), an exception message or the input echoed back, or is a 5xx
 * (WARN). Each request carries a random marker so echoing is detectable.
 */

import { randomBytes } from 'node:crypto';
import { findLeaks, type Leak } from '../leaks.js';
import { ProbeError } from '../net-errors.js';
import type { ProbeRequest, ProbeResponse } from '../probe.js';
import { REF } from '../references.js';
import { postHeaders } from '../session.js';
import { combine, step } from '../steps.js';
import type { CheckContext, CheckDefinition, CheckOutcome, Step } from '../types.js';

/** Nesting deep enough to trip naive recursive code, small enough for any body limit (~4 KiB). */
const NESTING = 1000;

interface Provocation {
  readonly name: string;
  readonly request: ProbeRequest;
}

function provocations(context: CheckContext, canary: string): Provocation[] {
  const { url, apiKey } = context.options;
  const json = postHeaders(apiKey);
  const unknownPath = new URL(`/mcp-warden-check-${canary}`, url);
  return [
    { name: 'malformed JSON', request: { url, method: 'POST', headers: json, body: `{"jsonrpc":"2.0","id":1,"method":"${canary}` } },
    {
      name: 'deep nesting',
      request: { url, method: 'POST', headers: json, body: `{"jsonrpc":"2.0","id":1,"method":"${canary}","params":{"a":${'['.repeat(NESTING)}${']'.repeat(NESTING)}}}` },
    },
    { name: 'not JSON-RPC', request: { url, method: 'POST', headers: json, body: JSON.stringify({ [canary]: [canary, { nested: canary }] }) } },
    { name: 'wrong content type', request: { url, method: 'POST', headers: { ...json, 'content-type': 'text/plain' }, body: canary } },
    { name: 'unknown path', request: { url: unknownPath, method: 'GET', headers: apiKey === undefined ? {} : { authorization: `Bearer ${apiKey}` } } },
  ];
}

function describeLeak(leak: Leak, name: string, response: ProbeResponse): string {
  return `${name} → ${response.status} body has ${leak.kind === 'echoed input' ? 'the input echoed back' : `a ${leak.kind} (${leak.excerpt})`}`;
}

export const errorsCheck: CheckDefinition = {
  name: 'errors',
  summary: 'error bodies carry no stack trace, file path, exception message or echoed input',
  reference: REF.errors,
  usesEras: false,
  async run(context): Promise<CheckOutcome> {
    const canary = `mwc${randomBytes(6).toString('hex')}`;
    const steps: Step[] = [];
    const examined: string[] = [];
    let unauthorized = 0;
    for (const { name, request } of provocations(context, canary)) {
      let response: ProbeResponse;
      try {
        response = await context.http.request(request);
      } catch (error) {
        // A server that hangs on bad input is worth a warning; one that is gone fails the check.
        if (!(error instanceof ProbeError) || error.kind !== 'timeout') throw error;
        steps.push(step(name, 'WARN', `${name}: ${error.message}`));
        continue;
      }
      examined.push(`${name} → ${response.status}`);
      if (response.status === 401) unauthorized++;
      for (const leak of findLeaks(response.body, canary)) steps.push(step(name, leak.severity, describeLeak(leak, name, response)));
      if (response.status >= 500) steps.push(step(name, 'WARN', `${name} → ${response.status}: bad input caused a server error`));
    }
    if (!steps.some((item) => item.status !== 'PASS')) {
      steps.push(step('bodies', 'PASS', `${examined.length} error answers leak no stack trace, path or input (${examined.join(', ')})`));
    }
    if (unauthorized > 0 && context.options.apiKey === undefined) {
      steps.push(step('behind auth', 'SKIP', 'errors behind authentication (no --api-key given)'));
    }
    return combine(steps, REF.errors, { examined });
  },
};

/**
 * The request log under a flood of refused and malformed requests: per client and failure the
 * first line is written, the rest are counted in one summary line per interval (counts exact),
 * while accepted requests keep one line each and the server keeps serving.
 */

import { describe, expect, it } from 'vitest';
import { pipelineFlood, rawGet } from '../helpers/pipeline.js';
import { apiTools, send } from '../helpers/http.js';
import { stillServing, useWarden } from '../helpers/warden.js';

type LogLine = { msg?: string; ip?: string; status?: number; failure?: string; count?: number; path?: string };

/** Requests from `ip` the log accounts for: one per `request` line plus the summaries' counts. */
function accounted(lines: readonly LogLine[], ip: string, failure?: string): number {
  const matches = (line: LogLine): boolean => line.ip === ip && (failure === undefined || line.failure === failure);
  return (
    lines.filter((line) => line.msg === 'request' && matches(line)).length +
    lines.filter((line) => line.msg === 'requests refused (aggregated)' && matches(line)).reduce((sum, line) => sum + (line.count ?? 0), 0)
  );
}

describe('request log under a flood', () => {
  it('writes a bounded number of lines for refused and malformed requests, with exact counts', async () => {
    let clock = Date.parse('2026-01-01T00:00:00Z');
    const warden = await useWarden({ options: { rateLimit: 400, banThreshold: 20, logAggregateInterval: 60 }, clock: () => clock });

    const noKey = await pipelineFlood(warden.url, { count: 3000, localAddress: '127.0.0.2', request: rawGet('/api/status') });
    const limited = await pipelineFlood(warden.url, { count: 1000, localAddress: '127.0.0.3', request: rawGet('/nothing-here') });
    const malformed = await pipelineFlood(warden.url, { count: 500, localAddress: '127.0.0.4', request: rawGet('/%zz') });
    expect(noKey.get(401)).toBe(21);
    expect(noKey.get(403)).toBe(2979);
    expect(limited.get(404)).toBe(400);
    expect(limited.get(429)).toBe(600);
    // Malformed URLs count toward the per-IP limit like any request (400 of them, then 429).
    expect(malformed.get(400)).toBe(400);
    expect(malformed.get(429)).toBe(100);
    // Accepted requests: one line each.
    for (let index = 0; index < 20; index++) {
      expect((await apiTools(warden, warden.key)).status).toBe(200);
    }

    // Before the interval ends: only the first line per client and failure.
    const during = warden.logs() as LogLine[];
    expect(during.filter((line) => line.msg === 'request' && line.ip === '127.0.0.2').map((line) => line.failure)).toEqual(['auth_required:no_credentials', 'ip_banned:banned']);
    expect(during.filter((line) => line.msg === 'request' && line.ip === '127.0.0.3').map((line) => line.failure)).toEqual(['not_found:route', 'rate_limited:ip']);
    expect(during.filter((line) => line.msg === 'request' && line.ip === '127.0.0.4').map((line) => line.failure)).toEqual(['invalid_request:fst_err_bad_url', 'rate_limited:ip']);

    // The interval ends; the next refusal writes the summaries.
    clock += 61_000;
    expect((await send(`${warden.url}/nothing-here`)).status).toBe(404);
    const summaries = (warden.logs() as LogLine[]).filter((line) => line.msg === 'requests refused (aggregated)');
    expect(summaries.map((line) => `${line.ip} ${line.failure} ${line.count}`).sort()).toEqual([
      '127.0.0.2 auth_required:no_credentials 20',
      '127.0.0.2 ip_banned:banned 2978',
      '127.0.0.3 not_found:route 399',
      '127.0.0.3 rate_limited:ip 599',
      '127.0.0.4 invalid_request:fst_err_bad_url 399',
      '127.0.0.4 rate_limited:ip 99',
    ]);
    expect(await stillServing(warden)).toBe(true);
    // Counted but not yet summarised at shutdown: stop() writes the summary.
    for (let index = 0; index < 2; index++) expect((await send(`${warden.url}/nothing-here`)).status).toBe(404);
    await warden.stop();
    expect((warden.logs() as LogLine[]).filter((line) => line.msg === 'requests refused (aggregated)' && line.ip === '127.0.0.1')).toEqual([
      expect.objectContaining({ failure: 'not_found:route', status: 404, count: 2 }),
    ]);

    const lines = warden.logs() as LogLine[];
    const fromFlooders = lines.filter((line) => ['127.0.0.2', '127.0.0.3', '127.0.0.4'].includes(line.ip ?? ''));
    // 4,500 refused requests, 12 request lines (6 first lines, 6 summaries) and the ban's warning.
    expect(fromFlooders.filter((line) => line.msg === 'request' || line.msg === 'requests refused (aggregated)')).toHaveLength(12);
    expect(fromFlooders.map((line) => line.msg).filter((msg) => msg !== 'request' && msg !== 'requests refused (aggregated)')).toEqual(['client banned after repeated authentication failures']);
    expect(accounted(lines, '127.0.0.2', 'auth_required:no_credentials')).toBe(21);
    expect(accounted(lines, '127.0.0.2', 'ip_banned:banned')).toBe(2979);
    expect(accounted(lines, '127.0.0.3', 'not_found:route')).toBe(400);
    expect(accounted(lines, '127.0.0.3', 'rate_limited:ip')).toBe(600);
    expect(accounted(lines, '127.0.0.4', 'invalid_request:fst_err_bad_url')).toBe(400);
    expect(accounted(lines, '127.0.0.4', 'rate_limited:ip')).toBe(100);
    expect(lines.find((line) => line.msg === 'requests refused (aggregated)' && line.ip === '127.0.0.2' && line.failure === 'ip_banned:banned')).toMatchObject({ status: 403, count: 2978 });
    expect(lines.filter((line) => line.msg === 'request' && line.path === '/api/tools' && line.status === 200)).toHaveLength(20);
  }, 60_000);
});

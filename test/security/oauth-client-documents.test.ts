/**
 * Client ID Metadata Documents below the HTTP layer: the client id URL's shape, the SSRF guard of
 * the fetch (pinned connect, no redirects, byte cap, time limit, content type), the document's
 * checks, and the cache (bounded TTLs on a manual clock, shared in-flight fetches). The document
 * servers are real loopback servers; the allowance for loopback is on unless a test says otherwise.
 */

import { readFileSync } from 'node:fs';
import { createServer, type AddressInfo } from 'node:net';
import * as tls from 'node:tls';
import { describe, expect, it } from 'vitest';
import { ClientDocuments, CIMD_LIMITS, documentUrlProblem } from '../../src/security/oauth/client-documents.js';
import { fetchDocument } from '../../src/security/oauth/document-fetch.js';
import { OAuthError } from '../../src/security/oauth/grants.js';
import type { ClientRecord } from '../../src/security/oauth/store.js';
import { json, metadataFor, TEST_CA_FILE, useDocumentServer } from '../helpers/cimd.js';
import { manualClock } from '../helpers/clock.js';

const CA = [...tls.rootCertificates, readFileSync(TEST_CA_FILE, 'utf8')];

function documents(options: Partial<ConstructorParameters<typeof ClientDocuments>[0]> = {}): ClientDocuments {
  return new ClientDocuments({ allowLoopback: true, ca: CA, ...options });
}

function reasonOf(value: ClientRecord | OAuthError): string {
  return value instanceof OAuthError ? `${value.error}/${value.reason}` : 'ok';
}

describe('client id URLs (draft-ietf-oauth-client-id-metadata-document §3)', () => {
  it('takes https URLs with a path, in normal form, without fragment, user information or dot segments', () => {
    for (const url of ['https://app.example/client.json', 'https://app.example:8443/oauth/client', 'https://app.example/c?v=1']) expect(documentUrlProblem(url, false), url).toBeUndefined();
    const refused: ReadonlyArray<readonly [string, string]> = [
      ['http://app.example/client.json', 'not https'],
      ['https://app.example', 'has no path'],
      ['https://app.example/', 'has no path'],
      ['https://app.example/client.json#x', 'has a fragment'],
      ['https://user:pw@app.example/client.json', 'has user information'],
      ['https://app.example/a/../client.json', 'has a dot segment'],
      ['https://app.example/./client.json', 'has a dot segment'],
      ['https://app.example/a/%2E%2e/client.json', 'has a dot segment'],
      ['https://app.example/a/..', 'has a dot segment'],
      ['https://APP.example/client.json', 'not in normal form'],
      ['https://app.example:443/client.json', 'not in normal form'],
      ['https://app.example/cl ient.json', 'not in normal form'],
      [`https://app.example/${'x'.repeat(2000)}`, 'too long'],
      ['not a url', 'not a URL'],
    ];
    for (const [url, why] of refused) expect(documentUrlProblem(url, false), url).toBe(why);
    expect(documentUrlProblem('http://127.0.0.1:8080/client.json', true)).toBeUndefined();
  });
});

describe('fetching a metadata document', () => {
  it('accepts a valid document and gives the client its name and redirect URIs', async () => {
    const server = await useDocumentServer();
    const url = server.document('/client.json');
    const client = await documents().resolve(url);
    expect(client).toMatchObject({ clientId: url, clientName: 'CIMD Test Client', redirectUris: ['http://127.0.0.1:43119/callback'] });
  });

  it('removes Unicode format characters (bidi overrides, zero-width) from the client_name a document gives', async () => {
    const server = await useDocumentServer();
    const url = server.document('/bidi.json', { client_name: '\u202eTotally\u200b Legit\u2066\ufeff' });
    const client = await documents().resolve(url);
    expect(client).toMatchObject({ clientId: url, clientName: 'Totally Legit' });
  });

  it('refuses loopback documents without the test allowance, by literal and by name (localhost), before connecting', async () => {
    const server = await useDocumentServer();
    const url = server.document('/client.json');
    const guarded = documents({ allowLoopback: false });
    expect(reasonOf(await guarded.resolve(url))).toBe('invalid_client/cimd_private_address');
    const byName = url.replace('127.0.0.1', 'localhost');
    expect(reasonOf(await guarded.resolve(byName))).toBe('invalid_client/cimd_private_address');
    expect(server.hits('/client.json')).toBe(0);
  });

  it('refuses private, link-local and CGNAT literals even with the loopback allowance, and names resolving to any of them', async () => {
    const guarded = documents();
    for (const url of ['https://10.0.0.1/client.json', 'https://169.254.169.254/latest/meta-data', 'https://100.64.0.1/c.json', 'https://[fd00::1]/c.json', 'https://[::ffff:c0a8:1]/c.json', 'https://0.0.0.0/c.json']) {
      expect(reasonOf(await guarded.resolve(url)), url).toBe('invalid_client/cimd_private_address');
    }
    // One private answer among public ones refuses the name, whichever address a client would pick.
    const mixed = documents({ resolve: async () => [{ address: '93.184.215.14', family: 4 }, { address: '10.1.2.3', family: 4 }] });
    expect(reasonOf(await mixed.resolve('https://mixed.example/client.json'))).toBe('invalid_client/cimd_private_address');
  });

  it('connects to the address it vetted: no second lookup (a name only our resolver knows still reaches the server)', async () => {
    const server = await useDocumentServer({ tls: false });
    const port = new URL(server.origin).port;
    const url = `http://cimd-doc.invalid:${port}/client.json`;
    server.route('/client.json', json(metadataFor(url)));
    let lookups = 0;
    const pinned = documents({
      resolve: async () => {
        lookups += 1;
        // A rebinding resolver: vetted loopback first, a private address afterwards.
        return [{ address: lookups === 1 ? '127.0.0.1' : '10.0.0.1', family: 4 }];
      },
    });
    expect(reasonOf(await pinned.resolve(url))).toBe('ok');
    expect(lookups).toBe(1);
    expect(server.hits('/client.json')).toBe(1);
  });

  it('refuses plain http unless the allowance is on, and then only to loopback', async () => {
    const server = await useDocumentServer({ tls: false });
    const url = server.document('/client.json');
    expect(reasonOf(await documents().resolve(url))).toBe('ok');
    expect((await fetchDocument(new URL(url), { maxBytes: 5120, timeoutMs: 5000, allowLoopback: false })).kind).toBe('refused');
    const rebound = await fetchDocument(new URL('http://public.example/client.json'), { maxBytes: 5120, timeoutMs: 5000, allowLoopback: true, resolve: async () => [{ address: '93.184.215.14', family: 4 }] });
    expect(rebound).toEqual({ kind: 'refused', reason: 'scheme' });
  });

  it('does not follow a redirect', async () => {
    const server = await useDocumentServer();
    const target = server.document('/client.json');
    const url = server.route('/moved.json', (_request, response) => response.writeHead(302, { location: target }).end());
    expect(reasonOf(await documents().resolve(url))).toBe('invalid_client/cimd_redirect');
    expect(server.hits('/client.json')).toBe(0);
  });

  it('caps the body: by Content-Length, and while streaming when the length is not declared', async () => {
    const server = await useDocumentServer();
    const declared = server.route('/declared.json', json({ padding: 'x'.repeat(6000) }));
    expect(reasonOf(await documents().resolve(declared))).toBe('invalid_client/cimd_too_large');
    let written = 0;
    const streamed = server.route('/streamed.json', (_request, response) => {
      response.writeHead(200, { 'content-type': 'application/json' });
      // 1 MB in 1 KB chunks, no length declared: the reader must stop at its cap.
      const chunk = Buffer.alloc(1024, 0x20);
      const pump = (): void => {
        while (written < 1024 * 1024) {
          written += chunk.length;
          if (!response.write(chunk)) return void response.once('drain', pump);
        }
        response.end();
      };
      pump();
    });
    expect(reasonOf(await documents().resolve(streamed))).toBe('invalid_client/cimd_too_large');
    expect(written).toBeLessThan(1024 * 1024);
    // Just under the cap is fine.
    const fits = server.route('/fits.json', (_request, response) => {
      const body = JSON.stringify({ ...metadataFor(`${server.origin}/fits.json`), padding: '' });
      const padded = body.replace('"padding":""', `"padding":"${'x'.repeat(CIMD_LIMITS.maxBytes - Buffer.byteLength(body))}"`);
      response.writeHead(200, { 'content-type': 'application/json' }).end(padded);
    });
    expect(reasonOf(await documents().resolve(fits))).toBe('ok');
  });

  it('gives up on a server that does not answer within the time limit', async () => {
    const server = await useDocumentServer();
    const url = server.route('/slow.json', () => {
      // Never answers.
    });
    expect(reasonOf(await documents({ timeoutMs: 300 }).resolve(url))).toBe('invalid_client/cimd_timeout');
    const trickle = server.route('/trickle.json', (_request, response) => {
      response.writeHead(200, { 'content-type': 'application/json' });
      response.write('{');
      // ...and nothing more: the limit covers the body too.
    });
    expect(reasonOf(await documents({ timeoutMs: 300 }).resolve(trickle))).toBe('invalid_client/cimd_timeout');
  });

  it('refuses what is not a usable document, each with its own tag', async () => {
    const server = await useDocumentServer();
    const cases: ReadonlyArray<readonly [string, string]> = [
      [server.route('/text.json', (_request, response) => response.writeHead(200, { 'content-type': 'text/plain' }).end(JSON.stringify(metadataFor('x')))), 'invalid_client/cimd_content_type'],
      [server.route('/broken.json', json('{"client_id": ')), 'invalid_client/cimd_not_json'],
      [server.route('/array.json', json([1, 2])), 'invalid_client/cimd_not_json'],
      [server.route('/missing.json', () => undefined) && `${server.origin}/nowhere.json`, 'invalid_client/cimd_status'],
      [server.document('/other.json', { client_id: 'https://other.example/client.json' }), 'invalid_client/cimd_client_id_mismatch'],
      [server.document('/no-name.json', { client_name: undefined }), 'invalid_client/cimd_client_name'],
      [server.document('/bad-uri.json', { redirect_uris: ['http://evil.example/cb'] }), 'invalid_client/cimd_redirect_uris'],
      [server.document('/fragment-uri.json', { redirect_uris: ['https://app.example/cb#x'] }), 'invalid_client/cimd_redirect_uris'],
      [server.document('/no-uris.json', { redirect_uris: [] }), 'invalid_client/cimd_redirect_uris'],
      [server.document('/secret.json', { token_endpoint_auth_method: 'client_secret_basic' }), 'invalid_client/cimd_auth_method'],
      [server.document('/with-secret.json', { client_secret: 'shh' }), 'invalid_client/cimd_auth_method'],
      [server.document('/implicit.json', { response_types: ['token'] }), 'invalid_client/cimd_document'],
      [`${server.origin}/client.json#frag`, 'invalid_client/cimd_url'],
    ];
    for (const [url, why] of cases) expect(reasonOf(await documents().resolve(url)), url).toBe(why);
  });

  it('refuses a certificate it does not trust', async () => {
    const server = await useDocumentServer();
    const url = server.document('/client.json');
    expect(reasonOf(await documents({ ca: undefined }).resolve(url))).toBe('invalid_client/cimd_unreachable');
  });
});

describe('what one requesting address may cause', () => {
  it('starts at most 30 fetches a minute per address; others are not held back; the window moves on', async () => {
    const server = await useDocumentServer();
    const clock = manualClock();
    const limited = documents({ now: clock.now });
    for (let index = 0; index < CIMD_LIMITS.fetchesPerMinute; index += 1) {
      expect(reasonOf(await limited.resolve(`${server.origin}/missing-${index}.json`, '192.0.2.1'))).toBe('invalid_client/cimd_status');
    }
    expect(reasonOf(await limited.resolve(server.document('/client.json'), '192.0.2.1'))).toBe('temporarily_unavailable/cimd_rate_limited');
    expect(server.hits('/client.json')).toBe(0);
    expect(reasonOf(await limited.resolve(server.document('/client.json'), '192.0.2.2'))).toBe('ok');
    // Cached answers cost nothing.
    expect(reasonOf(await limited.resolve(server.document('/client.json'), '192.0.2.1'))).toBe('ok');
    clock.advance(61_000);
    expect(reasonOf(await limited.resolve(`${server.origin}/another.json`, '192.0.2.1'))).toBe('invalid_client/cimd_status');
  });

  it('holds at most 2 fetches at once per address, and 4 at once per document host', async () => {
    const server = await useDocumentServer();
    const other = await useDocumentServer();
    server.route('/hang.json', () => undefined);
    const limited = documents({ timeoutMs: 500 });
    const hanging = [0, 1].map((index) => limited.resolve(`${server.origin}/hang.json?n=${index}`, '192.0.2.1'));
    expect(reasonOf(await limited.resolve(other.document('/client.json'), '192.0.2.1'))).toBe('temporarily_unavailable/cimd_busy');
    // A second address fills the host's share: a third is refused for that host, not for another.
    const more = [2, 3].map((index) => limited.resolve(`${server.origin}/hang.json?n=${index}`, '192.0.2.2'));
    expect(reasonOf(await limited.resolve(server.document('/client.json'), '192.0.2.3'))).toBe('temporarily_unavailable/cimd_busy');
    expect(reasonOf(await limited.resolve(other.document('/client.json'), '192.0.2.3'))).toBe('ok');
    expect((await Promise.all([...hanging, ...more])).map(reasonOf)).toEqual(Array(4).fill('invalid_client/cimd_timeout'));
    expect(reasonOf(await limited.resolve(server.document('/other.json'), '192.0.2.1'))).toBe('ok');
    expect(CIMD_LIMITS.maxInFlight).toBeGreaterThanOrEqual(128);
  });

  it('gives up on a host that accepts the connection but never finishes the TLS handshake after the connect limit, not the whole fetch time', async () => {
    const tarpit = createServer(() => undefined);
    await new Promise<void>((resolve) => tarpit.listen(0, '127.0.0.1', resolve));
    try {
      const port = (tarpit.address() as AddressInfo).port;
      // The whole-fetch limit is far beyond the test's own timeout: only the connect limit can end it.
      const outcome = await documents({ timeoutMs: 600_000, connectTimeoutMs: 300 }).resolve(`https://127.0.0.1:${port}/client.json`);
      expect(reasonOf(outcome)).toBe('invalid_client/cimd_timeout');
    } finally {
      tarpit.close();
    }
  }, 15_000);
});

describe('the document cache', () => {
  it('keeps a document for its max-age within [1 min, 1 h], 5 min without one; refusals for 30 s', async () => {
    const server = await useDocumentServer();
    const clock = manualClock();
    const cache = documents({ now: clock.now });
    const plain = server.document('/plain.json');
    const short = server.document('/short.json', {}, { 'cache-control': 'public, max-age=120' });
    const tiny = server.document('/tiny.json', {}, { 'cache-control': 'max-age=1' });
    const huge = server.document('/huge.json', {}, { 'cache-control': 'max-age=99999999' });
    const never = server.document('/never.json', {}, { 'cache-control': 'no-store' });
    const refused = server.document('/refused.json', { client_id: 'https://other.example/x.json' });
    const all = [plain, short, tiny, huge, never, refused];
    const hits = (): number[] => ['/plain.json', '/short.json', '/tiny.json', '/huge.json', '/never.json', '/refused.json'].map((path) => server.hits(path));
    const resolveAll = async (): Promise<void> => {
      for (const url of all) await cache.resolve(url);
    };
    await resolveAll();
    await resolveAll();
    expect(hits()).toEqual([1, 1, 1, 1, 1, 1]);
    clock.advance(31_000); // refusal expired
    await resolveAll();
    expect(hits()).toEqual([1, 1, 1, 1, 1, 2]);
    clock.advance(30_000); // 61 s: max-age=1 and no-store held for the 1 minute floor
    await resolveAll();
    expect(hits()).toEqual([1, 1, 2, 1, 2, 3]);
    clock.advance(60_000); // 121 s
    await resolveAll();
    expect(hits()).toEqual([1, 2, 3, 1, 3, 4]);
    clock.advance(180_000); // 301 s
    await resolveAll();
    expect(hits()[0]).toBe(2);
    clock.advance(3_300_000); // past 1 h: max-age=99999999 clamped
    await resolveAll();
    expect(hits()[3]).toBe(2);
  });

  it('shares one fetch between concurrent requests for a URL', async () => {
    const server = await useDocumentServer();
    const url = server.document('/client.json');
    const cache = documents();
    const results = await Promise.all([cache.resolve(url), cache.resolve(url), cache.resolve(url)]);
    expect(results.map(reasonOf)).toEqual(['ok', 'ok', 'ok']);
    expect(server.hits('/client.json')).toBe(1);
  });
});

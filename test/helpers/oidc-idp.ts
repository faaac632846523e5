/**
 * A real, certified OpenID Connect provider (panva's `oidc-provider`) on a loopback port, for
 * tests of mcp-warden's upstream sign-in, and the user's browser at it: a small cookie-keeping
 * HTTP client that follows redirects and submits the provider's development login and consent
 * forms (devInteractions), then presses Approve on mcp-warden's own approval page (or stops there). One static confidential client: mcp-warden. Accounts are any login
 * name; their claims come from the table given. `tamper` lets a test alter the ID token in the
 * token response (what a forged or manipulated response would be); the provider is stopped when
 * the test ends.
 */

import { randomBytes } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import { exportJWK, generateKeyPair, SignJWT } from 'jose';
import Provider from 'oidc-provider';
import { onTestFinished } from 'vitest';
import { send, type RawResponse } from './http.js';
import { freePort } from './port.js';

export const IDP_CLIENT_ID = 'mcp-warden';
/** Seconds an ID token lives (short, so a test can outlive one with a manual clock). */
export const ID_TOKEN_TTL = 120;
export const IDP_CLIENT_SECRET = 'test-upstream-client-secret-0123456789';

export interface TestIdp {
  readonly issuer: string;
  /** Replaces the ID token of the next token responses (undefined: leave them alone). */
  tamper: ((idToken: string) => Promise<string> | string) | undefined;
  /** Signs claims with the provider's own key (a token the provider could have issued). */
  sign(claims: Record<string, unknown>): Promise<string>;
}

/** Starts the provider with mcp-warden (`wardenIssuer`) as its one client; stopped when the test finishes. */
export async function useIdp(wardenIssuer: string, accounts: Record<string, Record<string, unknown>>): Promise<TestIdp> {
  const port = await freePort();
  const issuer = `http://127.0.0.1:${port}`;
  // Our own signing key and lifetimes (the provider's development defaults only add warnings).
  const { privateKey } = await generateKeyPair('RS256', { extractable: true });
  const signingKey = { ...(await exportJWK(privateKey)), kid: 'idp-test-key', alg: 'RS256', use: 'sig' };
  const provider = new Provider(issuer, {
    jwks: { keys: [signingKey as never] },
    cookies: { keys: [randomBytes(32).toString('base64url')] },
    ttl: { Interaction: 600, Session: 600, Grant: 600, AccessToken: 600, IdToken: ID_TOKEN_TTL },
    clients: [
      {
        client_id: IDP_CLIENT_ID,
        client_secret: IDP_CLIENT_SECRET,
        redirect_uris: [`${wardenIssuer}/oauth/callback`],
        grant_types: ['authorization_code'],
        response_types: ['code'],
        token_endpoint_auth_method: 'client_secret_basic',
      },
    ],
    claims: { openid: ['sub'], email: ['email', 'email_verified'], groups: ['groups'] },
    // The scope's claims go into the ID token (mcp-warden reads only the ID token, as Entra and Google put them there).
    conformIdTokenClaims: false,
    features: { devInteractions: { enabled: true } },
    findAccount: (_ctx, id) => {
      const claims = accounts[id];
      if (claims === undefined) return undefined;
      return { accountId: id, claims: () => ({ sub: id, ...claims }) };
    },
  });
  const idp: TestIdp = {
    issuer,
    tamper: undefined,
    sign: (claims) => new SignJWT(claims).setProtectedHeader({ alg: 'RS256', kid: signingKey.kid }).sign(privateKey),
  };
  provider.use(async (ctx, next) => {
    await next();
    const body = ctx.body as Record<string, unknown> | undefined;
    if (ctx.path === '/token' && idp.tamper !== undefined && typeof body?.['id_token'] === 'string') {
      ctx.body = { ...body, id_token: await idp.tamper(body['id_token']) };
    }
  });
  const server: Server = createServer(provider.callback());
  await new Promise<void>((resolve) => server.listen(port, '127.0.0.1', resolve));
  onTestFinished(async () => {
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  });
  return idp;
}

/** The hidden fields of mcp-warden's approval page (after an upstream sign-in), or undefined for any other page. */
export function approvalForm(html: string): { transaction: string; csrf: string } | undefined {
  if (!html.includes('<title>Allow access to mcp-warden?</title>')) return undefined;
  const transaction = /name="transaction" value="([^"]+)"/.exec(html)?.[1];
  const csrf = /name="csrf" value="([^"]+)"/.exec(html)?.[1];
  return transaction === undefined || csrf === undefined ? undefined : { transaction, csrf };
}

/** A browser: cookies kept per origin (paths ignored: the tests use one provider and one mcp-warden). */
export class Browser {
  readonly #jar = new Map<string, Map<string, string>>();
  /** What {@link walk} does at mcp-warden's approval page after the provider: press Approve (default), or stop there. */
  readonly #consent: 'approve' | 'stop';

  constructor(options: { readonly consent?: 'approve' | 'stop' } = {}) {
    this.#consent = options.consent ?? 'approve';
  }

  #cookies(url: URL): string {
    return [...(this.#jar.get(url.origin) ?? new Map<string, string>())].map(([name, value]) => `${name}=${value}`).join('; ');
  }

  #keep(url: URL, response: RawResponse): void {
    const raw = response.headers['set-cookie'];
    const jar = this.#jar.get(url.origin) ?? new Map<string, string>();
    for (const line of raw === undefined ? [] : Array.isArray(raw) ? raw : [raw]) {
      const [pair] = line.split(';');
      const at = (pair ?? '').indexOf('=');
      if (at > 0) jar.set((pair as string).slice(0, at).trim(), (pair as string).slice(at + 1).trim());
    }
    this.#jar.set(url.origin, jar);
  }

  async request(target: string, form?: Record<string, string>): Promise<RawResponse> {
    const url = new URL(target);
    const headers: Record<string, string> = { cookie: this.#cookies(url) };
    if (form !== undefined) {
      headers['content-type'] = 'application/x-www-form-urlencoded';
      headers['origin'] = url.origin;
    }
    const response = await send(url.href, form === undefined ? { headers } : { method: 'POST', headers, body: new URLSearchParams(form).toString() });
    this.#keep(url, response);
    return response;
  }

  /**
   * Follows redirects from `start`, signing in as `login` and consenting at the provider, until
   * a redirect leaves for `stopAt` (the MCP client's redirect URI) or a page that is not the
   * provider's form answers. `rewrite` may change each redirect (an attacker's hand on the way).
   */
  async walk(start: string, login: string, stopAt: string, rewrite: (url: URL) => URL = (url) => url): Promise<{ readonly final: URL | undefined; readonly response: RawResponse }> {
    let next: { url: string; form?: Record<string, string> } = { url: start };
    for (let step = 0; step < 20; step += 1) {
      const response = await this.request(next.url, next.form);
      const location = response.headers['location'];
      if (response.status >= 300 && response.status < 400 && typeof location === 'string') {
        const url = rewrite(new URL(location, next.url));
        if (url.href.startsWith(stopAt)) return { final: url, response };
        next = { url: url.href };
        continue;
      }
      const approval = approvalForm(response.text);
      if (response.status === 200 && approval !== undefined) {
        if (this.#consent === 'stop') return { final: undefined, response };
        next = { url: new URL('/oauth/authorize', next.url).href, form: { ...approval, action: 'approve' } };
        continue;
      }
      const prompt = /name="prompt" value="(login|consent)"/.exec(response.text)?.[1];
      const action = /<form[^>]*action="([^"]+)"/.exec(response.text)?.[1];
      if (response.status !== 200 || prompt === undefined || action === undefined) return { final: undefined, response };
      const submit = new URL(action.replace(/&amp;/g, '&'), next.url).href;
      next = { url: submit, form: prompt === 'login' ? { prompt, login, password: 'any' } : { prompt } };
    }
    throw new Error('too many redirects');
  }
}

/**
 * @module http/oauth-consent-page
 * The key sign-in page of mcp-warden's authorization server: which client asks, where it will
 * send the user back (the redirect host), which scopes it asks for, and a field for the API key
 * or, instead, a one-time sign-in code an operator made for a key (`mcp-warden oauth code`).
 * Server-rendered with every value escaped; no script and no inline style, so the CSP can be
 * `default-src 'none'`; `form-action` names only this server and the client's redirect origin
 * (browsers apply it to the redirect that follows the post).
 *
 * With upstream OpenID Connect sign-in the identity provider has already said who the user is;
 * {@link renderUpstreamConsentPage} then asks that user, by name, whether this client (name, id,
 * redirect host) may have these scopes: without the page a link to an openly registered client
 * would turn a provider's single sign-on into a code for that client (the MCP security best
 * practices' confused deputy). Client names are wrapped in `<bdi>` (a name's text direction
 * cannot reorder the sentence around it), and a loopback redirect gets a warning line (the MCP
 * authorization spec: a localhost redirect means a program on this computer receives the code).
 */

import { escapeHtml } from './page.js';

export interface ConsentPageInput {
  readonly clientName: string | undefined;
  readonly clientId: string;
  readonly redirectUri: string;
  readonly scopes: readonly string[] | undefined;
  readonly transaction: string;
  readonly csrf: string;
  /** Shown above the form after a refused key. */
  readonly notice?: string | undefined;
}

/** The redirect URI's origin for `form-action` (a private-use scheme: the scheme alone). */
function formTarget(redirectUri: string): string {
  const url = new URL(redirectUri);
  return url.protocol === 'http:' || url.protocol === 'https:' ? url.origin : url.protocol;
}

/** The consent page's CSP (RFC-free, browser-enforced): nothing but the form. */
export function consentCsp(redirectUri: string): string {
  return `default-src 'none'; form-action 'self' ${formTarget(redirectUri)}; frame-ancestors 'none'; base-uri 'none'`;
}

/** Where the client sends the user back, as the page names it. */
function redirectHost(redirectUri: string): string {
  const url = new URL(redirectUri);
  return url.protocol === 'http:' || url.protocol === 'https:' ? url.host : url.protocol.slice(0, -1);
}

/** True for an http redirect URI on a loopback host (a native client on the user's own computer). */
export function isLoopbackRedirect(redirectUri: string): boolean {
  const url = new URL(redirectUri);
  return url.protocol === 'http:' && (url.hostname === 'localhost' || url.hostname === '[::1]' || /^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(url.hostname));
}

/** The warning line for a loopback redirect (empty otherwise). */
function loopbackWarning(redirectUri: string): string {
  return isLoopbackRedirect(redirectUri)
    ? '<p class="warning" id="loopback-warning"><strong>Warning:</strong> this client receives the sign-in on this computer (localhost). Approve only if you just started the sign-in from a program you trust here.</p>\n'
    : '';
}

/** The client's name as the pages show it: escaped, and isolated from the sentence's text direction. */
function clientLabel(clientName: string | undefined): string {
  return `<strong><bdi>${escapeHtml(clientName ?? 'An unnamed client')}</bdi></strong>`;
}

export interface UpstreamConsentPageInput {
  readonly clientName: string | undefined;
  readonly clientId: string;
  readonly redirectUri: string;
  /** The scopes the grant will carry. */
  readonly scopes: readonly string[];
  /** Who the identity provider signed in. */
  readonly subject: string;
  readonly email: string | undefined;
  readonly transaction: string;
  readonly csrf: string;
}

/** The approval page after an upstream sign-in: no credential field, only Approve or Deny. */
export function renderUpstreamConsentPage(input: UpstreamConsentPageInput): string {
  const who = input.email === undefined ? escapeHtml(input.subject) : `${escapeHtml(input.email)} (subject <code>${escapeHtml(input.subject)}</code>)`;
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Allow access to mcp-warden?</title>
</head>
<body>
<main>
<h1>Allow access to mcp-warden?</h1>
<p>You are signed in as <strong><bdi>${who}</bdi></strong>.</p>
<p>${clientLabel(input.clientName)} (client <code>${escapeHtml(input.clientId)}</code>) asks to use this MCP server on your behalf.</p>
<p>If you approve, you go back to <strong>${escapeHtml(redirectHost(input.redirectUri))}</strong> with access to:</p>
<ul>${input.scopes.map((scope) => `<li><code>${escapeHtml(scope)}</code></li>`).join('')}</ul>
${loopbackWarning(input.redirectUri)}<p>If you did not start this sign-in from this client, choose Deny.</p>
<form method="post" action="/oauth/authorize">
<input type="hidden" name="transaction" value="${escapeHtml(input.transaction)}">
<input type="hidden" name="csrf" value="${escapeHtml(input.csrf)}">
<p><button type="submit" name="action" value="approve">Approve</button>
<button type="submit" name="action" value="deny">Deny</button></p>
</form>
</main>
</body>
</html>
`;
}

export function renderConsentPage(input: ConsentPageInput): string {
  const scopes = input.scopes === undefined || input.scopes.length === 0 ? ['everything your key allows'] : input.scopes;
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Sign in to mcp-warden</title>
</head>
<body>
<main>
<h1>Sign in to mcp-warden</h1>
<p>${clientLabel(input.clientName)} (client <code>${escapeHtml(input.clientId)}</code>) asks to use this MCP server on your behalf.</p>
<p>After you approve, you go back to <strong>${escapeHtml(redirectHost(input.redirectUri))}</strong>.</p>
<p>It asks for:</p>
<ul>${scopes.map((scope) => `<li><code>${escapeHtml(scope)}</code></li>`).join('')}</ul>
<p>The client gets tokens with your API key's tools and limits, never more; they stop working when the key is revoked.</p>
${loopbackWarning(input.redirectUri)}${input.notice === undefined ? '' : `<p role="alert"><strong>${escapeHtml(input.notice)}</strong></p>`}
<form method="post" action="/oauth/authorize">
<input type="hidden" name="transaction" value="${escapeHtml(input.transaction)}">
<input type="hidden" name="csrf" value="${escapeHtml(input.csrf)}">
<p><label for="api_key">API key</label><br>
<input id="api_key" name="api_key" type="password" autocomplete="off" spellcheck="false" size="40"></p>
<p><label for="sign_in_code">Or a one-time code from your operator</label><br>
<input id="sign_in_code" name="sign_in_code" type="text" autocomplete="one-time-code" autocapitalize="characters" spellcheck="false" maxlength="64" size="30" placeholder="XXXXX-XXXXX-XXXXX-XXXXX"></p>
<p><button type="submit" name="action" value="approve">Approve</button>
<button type="submit" name="action" value="deny">Deny</button></p>
</form>
</main>
</body>
</html>
`;
}

/** A page for a request that cannot go back to the client (unknown client, unregistered redirect URI, expired sign-in). */
export function renderConsentError(message: string): string {
  return `<!doctype html>
<html lang="en">
<head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1"><title>Sign-in refused</title></head>
<body><main><h1>Sign-in refused</h1><p>${escapeHtml(message)}</p></main></body>
</html>
`;
}

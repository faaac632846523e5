/**
 * @module http/oauth-consent-page
 * The key sign-in page of mcp-warden's authorization server: which client asks, where it will
 * send the user back (the redirect host), which scopes it asks for, and a field for the API key
 * or, instead, a one-time sign-in code an operator made for a key (`mcp-warden oauth code`).
 * Server-rendered with every value escaped; no script and no inline style, so the CSP can be
 * `default-src 'none'`; `form-action` names only this server and the client's redirect origin
 * (browsers apply it to the redirect that follows the post).
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

export function renderConsentPage(input: ConsentPageInput): string {
  const name = input.clientName ?? 'An unnamed client';
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
<p><strong>${escapeHtml(name)}</strong> (client <code>${escapeHtml(input.clientId)}</code>) asks to use this MCP server on your behalf.</p>
<p>After you approve, you go back to <strong>${escapeHtml(redirectHost(input.redirectUri))}</strong>.</p>
<p>It asks for:</p>
<ul>${scopes.map((scope) => `<li><code>${escapeHtml(scope)}</code></li>`).join('')}</ul>
<p>The client gets tokens with your API key's tools and limits, never more; they stop working when the key is revoked.</p>
${input.notice === undefined ? '' : `<p role="alert"><strong>${escapeHtml(input.notice)}</strong></p>`}
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

/**
 * @module http/page
 * The public home page: what this server is, how to connect, and its security posture.
 * Rendered from the configuration summary only, so it can never show a key.
 */

export interface PageInfo {
  readonly version: string;
  /** Absolute URL of the MCP endpoint as clients should use it. */
  readonly endpoint: string;
  readonly apiKeyCount: number;
  readonly rateLimit: number;
  readonly rateWindowSeconds: number;
  readonly corsOrigins: readonly string[];
  readonly protocolVersions: readonly string[];
  readonly stateless: boolean;
  readonly bodyLimitBytes: number;
  readonly dnsRebindingProtection: string;
}

const ESCAPES: Readonly<Record<string, string>> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' };

/** Escapes text for HTML element content and quoted attributes. */
export function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (char) => ESCAPES[char] as string);
}

/** CSP of the page: own stylesheet and script only, no inline code, no framing. */
export const PAGE_CSP =
  "default-src 'none'; style-src 'self'; script-src 'self'; img-src 'self'; connect-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'";

export function renderHomePage(info: PageInfo): string {
  const endpoint = escapeHtml(info.endpoint);
  const cors = info.corsOrigins.length === 0 ? 'no cross-origin browser access' : info.corsOrigins.map(escapeHtml).join(', ');
  const clientConfig = escapeHtml(
    JSON.stringify({ mcpServers: { warden: { type: 'http', url: info.endpoint, headers: { Authorization: 'Bearer <YOUR_API_KEY>' } } } }, null, 2),
  );
  const sdkExample = escapeHtml(
    [
      "import { Client } from '@modelcontextprotocol/sdk/client/index.js';",
      "import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';",
      '',
      `const transport = new StreamableHTTPClientTransport(new URL('${info.endpoint}'), {`,
      '  requestInit: { headers: { Authorization: `Bearer ${process.env.MCP_API_KEY}` } },',
      '});',
      "const client = new Client({ name: 'my-app', version: '1.0.0' });",
      'await client.connect(transport);',
      'console.log(await client.listTools());',
    ].join('\n'),
  );
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="referrer" content="no-referrer">
<title>mcp-warden</title>
<link rel="stylesheet" href="/assets/warden.css">
</head>
<body>
<header>
  <h1>mcp-warden <small>v${escapeHtml(info.version)}</small></h1>
  <p>A Model Context Protocol server over Streamable HTTP, with authentication, rate limiting and audit logging on by default.</p>
</header>
<main>
<section id="connect">
  <h2>Connect</h2>
  <p>MCP endpoint: <code id="endpoint">${endpoint}</code> (protocol versions ${info.protocolVersions.map(escapeHtml).join(', ')}${info.stateless ? '; stateless mode' : ''}).</p>
  <p>Every request needs an API key in the <code>Authorization: Bearer</code> header. Ask the operator for a key; keys are never shown here.</p>
  <h3>MCP client configuration</h3>
  <pre><code>${clientConfig}</code></pre>
  <h3>TypeScript SDK</h3>
  <pre><code>${sdkExample}</code></pre>
</section>
<section id="security">
  <h2>Security posture</h2>
  <dl>
    <dt>Authentication</dt><dd>required: Bearer API key on <code>/mcp</code> and <code>/api/*</code> (${info.apiKeyCount} key${info.apiKeyCount === 1 ? '' : 's'} configured)</dd>
    <dt>Rate limit</dt><dd>${info.rateLimit} requests per ${info.rateWindowSeconds} s per client IP, rolling window</dd>
    <dt>CORS</dt><dd>${cors}</dd>
    <dt>DNS-rebinding protection</dt><dd>${escapeHtml(info.dnsRebindingProtection)}</dd>
    <dt>Request body limit</dt><dd>${info.bodyLimitBytes} bytes</dd>
    <dt>Public endpoints</dt><dd><code>GET /health</code>, this page</dd>
  </dl>
</section>
</main>
<footer><p>mcp-warden ${escapeHtml(info.version)}</p></footer>
</body>
</html>
`;
}

/**
 * @module http/page
 * The public home page: what this server is, how to connect, and its security posture, plus
 * the markup of the operator console (public/console.js fills it from `GET /api/status` once
 * an operator enters a key in the browser). Rendered from the configuration summary only, so
 * it can never show a key.
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
  /** The 2026-07-28-era versions (per-request `_meta`, no session). */
  readonly modernProtocolVersions: readonly string[];
  readonly stateless: boolean;
  readonly bodyLimitBytes: number;
  readonly dnsRebindingProtection: string;
  /** How often the operator console polls `/api/status`, in ms (default 3000; clamped to 1000-60000). */
  readonly consoleRefreshMs?: number;
}

/** Console polling interval when none is configured: 20 polls a minute, a fifth of the default rate limit. */
export const CONSOLE_REFRESH_MS = 3000;
const CONSOLE_REFRESH_MIN_MS = 1000;
const CONSOLE_REFRESH_MAX_MS = 60_000;

const ESCAPES: Readonly<Record<string, string>> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' };

/** Escapes text for HTML element content and quoted attributes. */
export function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (char) => ESCAPES[char] as string);
}

/** CSP of the page: own stylesheet and script only, no inline code, no framing. */
export const PAGE_CSP =
  "default-src 'none'; style-src 'self'; script-src 'self'; img-src 'self'; connect-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'";

/** The console's polling interval: an integer within bounds, else the default. */
function consoleRefreshMs(value: number | undefined): number {
  if (value === undefined || !Number.isInteger(value)) return CONSOLE_REFRESH_MS;
  return Math.min(CONSOLE_REFRESH_MAX_MS, Math.max(CONSOLE_REFRESH_MIN_MS, value));
}

/** One figure of the console: a label, a value filled by console.js, and optionally a sparkline. */
function stat(id: string, label: string, chart: boolean): string {
  return `<div class="stat"><span class="stat-label">${label}</span><span class="stat-value" id="stat-${id}" data-testid="stat-${id}"></span><span class="stat-detail" id="stat-${id}-detail"></span>${
    chart ? `<span class="spark-box" id="chart-${id}" data-testid="chart-${id}"></span>` : ''
  }</div>`;
}

/**
 * The operator console. Nothing here comes from the server's state: console.js fetches
 * `/api/status` with the key the operator types, and writes every value with textContent.
 * The key input has no `name`, so even a form submitted without the script sends nothing
 * (and the page CSP's `form-action 'none'` blocks the submission anyway).
 */
function renderConsole(refreshMs: number): string {
  return `<section id="console" data-refresh-ms="${refreshMs}" aria-labelledby="console-title">
  <h2 id="console-title">Operator console</h2>
  <p>Live figures from <code>GET /api/status</code>. Paste an operator API key: it is kept in this browser tab only (<code>sessionStorage</code>, gone when the tab closes) and sent only in the <code>Authorization</code> header to this server.</p>
  <noscript><p class="console-error">The console needs JavaScript; the rest of this page does not.</p></noscript>
  <form id="console-login" class="console-login" autocomplete="off" hidden>
    <label for="console-key">API key</label>
    <div class="console-row">
      <input id="console-key" type="password" autocomplete="off" autocapitalize="off" spellcheck="false" required>
      <button id="console-connect" type="submit">Show status</button>
    </div>
  </form>
  <p id="console-error" class="console-error" role="alert" hidden></p>
  <div id="console-session" class="console-row console-session" hidden>
    <p id="console-status" class="console-status" aria-live="polite"></p>
    <button id="console-forget" type="button">Forget key</button>
  </div>
  <div id="console-view" hidden>
    <div class="stats">
      ${stat('uptime', 'Uptime', false)}
      ${stat('rps', 'Requests / s', true)}
      ${stat('requests', 'Requests served', false)}
      ${stat('auth-failures', 'Auth failures', true)}
      ${stat('rate-limited', 'Rate-limited', true)}
      ${stat('sessions', 'Active sessions', true)}
      ${stat('modern', 'Requests, 2026-07-28 era', false)}
      ${stat('memory', 'Memory (RSS)', true)}
      ${stat('forbidden', 'Forbidden', false)}
      ${stat('keys', 'Active keys', false)}
    </div>
    <p id="console-monitoring-off" class="console-note" hidden>Monitoring is off on this server (<code>--no-monitoring</code>): counters stay at zero.</p>
    <h3>Calls per tool</h3>
    <div class="table-box">
      <table id="tools-table" data-testid="tools-table">
        <thead><tr><th scope="col">Tool</th><th scope="col" class="num">Calls</th><th scope="col" class="num">Errors</th><th scope="col" class="num">Avg ms</th></tr></thead>
        <tbody id="tools-body"></tbody>
      </table>
    </div>
    <h3>Latest security events</h3>
    <div class="table-box">
      <table id="events-table" data-testid="events-table">
        <thead><tr><th scope="col">Time</th><th scope="col">Event</th><th scope="col">Client</th><th scope="col">Principal</th><th scope="col">Detail</th></tr></thead>
        <tbody id="events-body"></tbody>
      </table>
    </div>
    <h3>Active bans</h3>
    <ul id="bans-list" class="bans" data-testid="bans-list"></ul>
  </div>
</section>`;
}

export function renderHomePage(info: PageInfo): string {
  const endpoint = escapeHtml(info.endpoint);
  const cors = info.corsOrigins.length === 0 ? 'no cross-origin browser access to /mcp (OAuth metadata and the public OAuth endpoints, when on, answer any origin without credentials)' : info.corsOrigins.map(escapeHtml).join(', ');
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
<script src="/assets/console.js" defer></script>
</head>
<body>
<header>
  <h1>mcp-warden <small>v${escapeHtml(info.version)}</small></h1>
  <p>A Model Context Protocol server over Streamable HTTP, with authentication, rate limiting and audit logging on by default.</p>
</header>
<main>
<section id="connect">
  <h2>Connect</h2>
  <p>MCP endpoint: <code id="endpoint">${endpoint}</code> (MCP ${info.modernProtocolVersions.map(escapeHtml).join(', ')} per request, without a session, and ${info.protocolVersions.map(escapeHtml).join(', ')} over <code>initialize</code> and ${info.stateless ? 'stateless requests' : 'sessions'}; the era is chosen by how the client opens).</p>
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
${renderConsole(consoleRefreshMs(info.consoleRefreshMs))}
</main>
<footer><p>mcp-warden ${escapeHtml(info.version)}</p></footer>
</body>
</html>
`;
}

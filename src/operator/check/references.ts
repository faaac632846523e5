/**
 * @module operator/check/references
 * The specification and OWASP sections each check verifies, in one place so the report,
 * the README and the tests agree on them.
 */

export const REF = {
  health: 'draft-inadarei-api-health-check; Kubernetes liveness probes',
  auth: 'OWASP API2:2023 Broken Authentication; RFC 6750 §2.3, §3.1; MCP 2025-11-25 Authorization',
  origin: 'MCP 2025-11-25 Transports §Security Warning (DNS rebinding)',
  protocol: 'MCP 2025-11-25 Transports §Protocol Version Header, §Session Management; JSON-RPC 2.0 §5.1',
  modern:
    'MCP 2026-07-28 basic/transports/streamable-http §Security & Endpoint, §Protocol Version Header, §Standard Request Headers, §Server Validation; basic/versioning §Protocol Version Negotiation; server/discover; server/utilities/caching',
  cors: 'Fetch Standard §CORS protocol; OWASP API8:2023 Security Misconfiguration',
  headers: 'OWASP Secure Headers Project; OWASP API8:2023 Security Misconfiguration',
  transport: 'MCP 2025-11-25 Authorization §Communication Security; RFC 6750 §5.3',
  errors: 'OWASP API8:2023 Security Misconfiguration; CWE-209 Information Exposure Through an Error Message',
  mcp: 'MCP 2025-11-25 Lifecycle §Initialization; MCP 2025-11-25 Server Features §Tools',
  rate: 'OWASP API4:2023 Unrestricted Resource Consumption; RFC 6585 §4; RFC 9110 §10.2.3',
} as const;

/**
 * A newcomer's 401: the body and the `WWW-Authenticate` challenge say what to send and where to
 * look, within RFC 6750 (no error attributes when no credentials were sent; `error_description`
 * in the allowed character set), and never echo the refused credential.
 */

import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { createChallenges } from '../../src/http/challenge.js';
import { RPC } from '../../src/wire-codes.js';
import { MCP_ACCEPT, mcpHeaders, send, type RawResponse } from '../helpers/http.js';
import { startWarden, stillServing, type RunningWarden } from '../helpers/warden.js';

const TOOLS_LIST = JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'tools/list' });
const WRONG_KEY = 'wrong-key-Zq8vX2kLmN4pR7tY9wB1cD3fG5hJ';
// RFC 6750 §3: error-description = *( %x20-21 / %x23-5B / %x5D-7E )
const DESCRIPTION = /error_description="([\x20\x21\x23-\x5B\x5D-\x7E]*)"/;

function rpcError(response: RawResponse): { code: number; message: string } {
  return (response.json() as { error: { code: number; message: string } }).error;
}

describe('401 answers', () => {
  let warden: RunningWarden;

  beforeAll(async () => {
    warden = await startWarden();
  });

  afterAll(async () => {
    await warden.stop();
  });

  afterEach(async () => {
    expect(await stillServing(warden)).toBe(true);
  });

  it('no key on /mcp: a bare Bearer challenge and a JSON-RPC error that says a Bearer API key is required and where to read more', async () => {
    const response = await send(warden.mcpUrl, { method: 'POST', headers: { 'content-type': 'application/json', accept: MCP_ACCEPT }, body: TOOLS_LIST });
    expect(response.status).toBe(401);
    // RFC 6750 §3.1: no error code when the request carried no credentials.
    expect(response.headers['www-authenticate']).toBe('Bearer realm="mcp-warden"');
    const error = rpcError(response);
    expect(error.code).toBe(RPC.SERVER_ERROR);
    expect(error.message).toBe('Unauthorized: this server requires a Bearer API key (header "Authorization: Bearer <key>"); see Troubleshooting in the mcp-warden README');
  });

  it('a wrong key on /mcp: invalid_token with an error_description saying what to send, and a body that names no key', async () => {
    const response = await send(warden.mcpUrl, { method: 'POST', headers: mcpHeaders(WRONG_KEY), body: TOOLS_LIST });
    expect(response.status).toBe(401);
    const challenge = String(response.headers['www-authenticate']);
    expect(challenge).toMatch(/^Bearer realm="mcp-warden", error="invalid_token", error_description="[^"]*"$/);
    expect(DESCRIPTION.exec(challenge)?.[1]).toBe('Send a valid API key as Authorization: Bearer <key>; this one is unknown, revoked, expired or malformed');
    const error = rpcError(response);
    expect(error.code).toBe(RPC.SERVER_ERROR);
    expect(error.message).toBe('Unauthorized: the Bearer credential was not accepted (unknown, revoked or expired key, or invalid token); see Troubleshooting in the mcp-warden README');
    expect(response.text).not.toContain(WRONG_KEY.slice(0, 12));
    expect(challenge).not.toContain(WRONG_KEY.slice(0, 12));
  });

  it('a wrong key on /api: the same explanation in the API error shape', async () => {
    const response = await send(`${warden.url}/api/status`, { headers: { authorization: `Bearer ${WRONG_KEY}` } });
    expect(response.status).toBe(401);
    expect(response.json()).toEqual({ error: 'auth_invalid', message: expect.stringContaining('Troubleshooting') });
    expect(DESCRIPTION.test(String(response.headers['www-authenticate']))).toBe(true);
  });
});

describe('challenges in OAuth mode', () => {
  it('invalid_token asks for an API key or an access token and keeps resource_metadata', () => {
    const challenges = createChallenges({ realm: 'mcp-warden', resourceMetadataUrl: 'https://mcp.example.com/.well-known/oauth-protected-resource' });
    expect(challenges.missing['www-authenticate']).toBe('Bearer realm="mcp-warden", resource_metadata="https://mcp.example.com/.well-known/oauth-protected-resource"');
    const invalid = challenges.invalid['www-authenticate'] ?? '';
    expect(invalid).toContain('error="invalid_token"');
    expect(DESCRIPTION.exec(invalid)?.[1]).toBe('Send a valid API key or access token as Authorization: Bearer <credential>; this one is unknown, revoked, expired or malformed');
  });
});

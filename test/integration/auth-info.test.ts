/**
 * Tool handlers never see the raw bearer token (issue 9 §F): a library server's tool returns
 * the `extra.authInfo` the SDK hands it, over real HTTP with an API key and with a JWT (JWKS
 * on loopback); neither the key, nor the token, nor the token's signature appears in it, while
 * the principal id stands in for the credential.
 */

import { createServer as createHttpServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SignJWT, exportJWK, generateKeyPair } from 'jose';
import { keyFingerprint } from '../../src/security/api-keys.js';
import { mcpHeaders, send } from '../helpers/http.js';
import { openSession, startWarden, type RunningWarden } from '../helpers/warden.js';
import { whoamiServer } from '../helpers/mcp-servers.js';

const ISSUER = 'https://auth.example.test';
const AUDIENCE = 'https://mcp.example.test';

describe('tool handlers and the bearer token', () => {
  let jwksServer: Server;
  let warden: RunningWarden;
  let jwt: string;

  beforeAll(async () => {
    const keys = await generateKeyPair('ES256', { extractable: true });
    const jwks = JSON.stringify({ keys: [{ ...(await exportJWK(keys.publicKey)), kid: 'k1', alg: 'ES256', use: 'sig' }] });
    jwksServer = createHttpServer((_request, response) => {
      response.writeHead(200, { 'content-type': 'application/json' });
      response.end(jwks);
    });
    await new Promise<void>((resolve) => jwksServer.listen(0, '127.0.0.1', resolve));
    jwt = await new SignJWT({ scope: 'mcp:tools', client_id: 'agent' })
      .setProtectedHeader({ alg: 'ES256', kid: 'k1' })
      .setIssuer(ISSUER)
      .setAudience(AUDIENCE)
      .setSubject('user-42')
      .setExpirationTime('5m')
      .sign(keys.privateKey);
    warden = await startWarden({
      mcpServer: whoamiServer,
      options: {
        jwtJwksUrl: `http://127.0.0.1:${(jwksServer.address() as AddressInfo).port}/jwks.json`,
        jwtIssuer: ISSUER,
        jwtAudience: AUDIENCE,
        publicUrl: AUDIENCE,
        jwtAlgorithms: ['ES256'],
      },
    });
  });

  afterAll(async () => {
    await warden?.stop();
    await new Promise((resolve) => jwksServer?.close(resolve));
  });

  async function authInfoSeenWith(credential: string): Promise<string> {
    const session = await openSession(warden, '2025-11-25', credential);
    const response = await send(warden.mcpUrl, {
      method: 'POST',
      headers: mcpHeaders(credential, { 'mcp-session-id': session.sessionId, 'mcp-protocol-version': session.version }),
      body: JSON.stringify({ jsonrpc: '2.0', id: 2, method: 'tools/call', params: { name: 'whoami', arguments: {} } }),
    });
    expect(response.status).toBe(200);
    const text = response.json<{ result: { content: Array<{ text: string }> } }>().result.content[0]?.text ?? '';
    expect(text).not.toBe('null');
    return text;
  }

  it('an API key: authInfo carries the key fingerprint, never the key', async () => {
    const seen = await authInfoSeenWith(warden.key);
    expect(seen).not.toContain(warden.key);
    const info = JSON.parse(seen) as { token: string; clientId: string };
    expect(info.token).toBe(keyFingerprint(warden.key));
    expect(info.clientId).toBe(keyFingerprint(warden.key));
  });

  it('a JWT: authInfo carries the subject and scopes, never the token or its signature', async () => {
    const seen = await authInfoSeenWith(jwt);
    expect(seen).not.toContain(jwt);
    expect(seen).not.toContain(jwt.split('.')[2] as string);
    expect(seen).not.toContain(jwt.split('.')[1] as string);
    const info = JSON.parse(seen) as { token: string; scopes: string[] };
    expect(info.token).toBe('sub:user-42');
    expect(info.scopes).toEqual(['mcp:tools']);
  });
});

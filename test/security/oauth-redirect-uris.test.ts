/** Redirect URI rules: what may be registered, and exact matching with the RFC 8252 §7.3 loopback port exception. */

import { describe, expect, it } from 'vitest';
import { redirectUriMatches, redirectUriProblem } from '../../src/security/oauth/redirect-uris.js';

describe('redirect URIs', () => {
  it('registers https, loopback http and reverse-domain private-use schemes only', () => {
    for (const uri of ['https://app.example/cb', 'http://127.0.0.1/cb', 'http://[::1]:8080/cb', 'http://localhost:3000/callback', 'com.example.app:/oauth']) expect(redirectUriProblem(uri), uri).toBeUndefined();
    for (const uri of ['http://app.example/cb', 'https://app.example/cb#x', 'javascript:alert(1)', 'data:text/html,x', 'myapp:/cb', 'https://user:pw@app.example/cb', 'relative/cb', `https://a.example/${'x'.repeat(2001)}`]) {
      expect(redirectUriProblem(uri), uri).toBeDefined();
    }
  });

  it('matches exactly, except the port of a loopback http URI', () => {
    const registered = ['https://app.example/cb', 'http://127.0.0.1/cb', 'http://localhost:3000/callback?x=1'];
    expect(redirectUriMatches('https://app.example/cb', registered)).toBe(true);
    expect(redirectUriMatches('https://app.example/cb/', registered)).toBe(false);
    expect(redirectUriMatches('https://APP.example/cb', registered)).toBe(false);
    expect(redirectUriMatches('https://app.example:443/cb', registered)).toBe(false);
    expect(redirectUriMatches('http://127.0.0.1:51234/cb', registered)).toBe(true);
    expect(redirectUriMatches('http://127.0.0.1:51234/cb2', registered)).toBe(false);
    expect(redirectUriMatches('http://127.0.0.1:51234/cb?extra=1', registered)).toBe(false);
    expect(redirectUriMatches('http://[::1]:51234/cb', registered)).toBe(false);
    expect(redirectUriMatches('http://localhost:9/callback?x=1', registered)).toBe(true);
    expect(redirectUriMatches('http://localhost:9/callback?x=2', registered)).toBe(false);
    expect(redirectUriMatches('http://127.0.0.1.evil.example:80/cb', registered)).toBe(false);
    expect(redirectUriMatches('http://127.0.0.1:80@evil.example/cb', registered)).toBe(false);
  });
});

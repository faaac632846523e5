/**
 * The scope rules of upstream OpenID Connect sign-in (security/oauth/upstream-oidc
 * `scopesForIdentity`): every condition of a rule must hold, matching rules add up, an
 * unverified email matches no domain, and the groups claim is the one configured.
 */

import { describe, expect, it } from 'vitest';
import { scopesForIdentity, type ScopeRule } from '../../src/security/oauth/upstream-oidc.js';

const RULES: ScopeRule[] = [
  { subject: 'admin-subject', scopes: ['mcp:tools', 'mcp:operator'] },
  { emailDomain: 'example.com', scopes: ['mcp:tools:echo'] },
  { emailDomain: 'example.com', group: 'search-users', scopes: ['mcp:tools:search'] },
];

describe('scopesForIdentity', () => {
  it('grants by subject, by email domain, and by domain and group together', () => {
    expect(scopesForIdentity(RULES, { sub: 'admin-subject' }, 'groups')).toEqual(['mcp:tools', 'mcp:operator']);
    expect(scopesForIdentity(RULES, { sub: 'a', email: 'Ann@Example.COM', email_verified: true }, 'groups')).toEqual(['mcp:tools:echo']);
    expect(scopesForIdentity(RULES, { sub: 'a', email: 'ann@example.com', groups: ['search-users'] }, 'groups')).toEqual(['mcp:tools:echo', 'mcp:tools:search']);
  });

  it('matches nothing for another domain, a look-alike domain, an unverified email, or a group in another claim', () => {
    expect(scopesForIdentity(RULES, { sub: 'b', email: 'bob@elsewhere.test' }, 'groups')).toEqual([]);
    expect(scopesForIdentity(RULES, { sub: 'b', email: 'bob@notexample.com' }, 'groups')).toEqual([]);
    expect(scopesForIdentity(RULES, { sub: 'b', email: 'bob@example.com.evil.test' }, 'groups')).toEqual([]);
    expect(scopesForIdentity(RULES, { sub: 'b', email: 'bob@example.com', email_verified: false }, 'groups')).toEqual([]);
    expect(scopesForIdentity(RULES, { sub: 'b', email: 'bob@example.com', email_verified: true, roles: ['search-users'] }, 'groups')).toEqual(['mcp:tools:echo']);
    expect(scopesForIdentity(RULES, { sub: 'b', email: 'bob@example.com', email_verified: true, roles: ['search-users'] }, 'roles')).toEqual(['mcp:tools:echo', 'mcp:tools:search']);
    expect(scopesForIdentity(RULES, { sub: 'b', groups: 'search-users' }, 'groups')).toEqual([]);
  });
});

/**
 * The scope rules of upstream OpenID Connect sign-in (security/oauth/upstream-oidc
 * `scopesForIdentity`): every condition of a rule must hold, matching rules add up, an
 * unverified email (email_verified false or absent) matches no domain unless the rule allows an absent claim, and the groups claim is the one configured.
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
    expect(scopesForIdentity(RULES, { sub: 'a', email: 'ann@example.com', email_verified: true, groups: ['search-users'] }, 'groups')).toEqual(['mcp:tools:echo', 'mcp:tools:search']);
  });

  it('an email without email_verified matches no domain rule, unless the rule allows a provider that never sends the claim', () => {
    // Absent claim: not verified by default (a provider that lets users set any email would otherwise pass).
    expect(scopesForIdentity(RULES, { sub: 'c', email: 'carol@example.com' }, 'groups')).toEqual([]);
    expect(scopesForIdentity(RULES, { sub: 'c', email: 'carol@example.com', email_verified: 'true' }, 'groups')).toEqual([]);
    const entra: ScopeRule[] = [{ emailDomain: 'example.com', allowMissingEmailVerified: true, scopes: ['mcp:tools:echo'] }];
    expect(scopesForIdentity(entra, { sub: 'c', email: 'carol@example.com' }, 'groups')).toEqual(['mcp:tools:echo']);
    expect(scopesForIdentity(entra, { sub: 'c', email: 'carol@example.com', email_verified: true }, 'groups')).toEqual(['mcp:tools:echo']);
    // The opt-in covers an absent claim only: an explicit false still matches nothing.
    expect(scopesForIdentity(entra, { sub: 'c', email: 'carol@example.com', email_verified: false }, 'groups')).toEqual([]);
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

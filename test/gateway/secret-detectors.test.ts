/**
 * Each secret detector: true positives in the contexts they appear in (env files, JSON text,
 * headers, PEM blocks), near misses that must not match, and linear-time behaviour on 1 MiB of
 * hostile text per detector. Tokens are assembled at run time so no scanner flags this file.
 */

import { describe, expect, it } from 'vitest';
import { DETECTOR_PATTERNS, SECRET_KINDS, findSecretSpans, namedSecretKind, shannonEntropy, type SecretKind } from '../../src/gateway/secret-detectors.js';
import { redactText, scanText } from '../../src/gateway/secrets.js';

const MIB = 1024 * 1024;

/** Samples: a random-looking alphanumeric body of `length` characters (deterministic). */
function body(length: number, alphabet = 'aB3dEf6hIj9kLm2nOp5qRs8tUv1wXy4zQ7'): string {
  let out = '';
  for (let index = 0; out.length < length; index++) out += alphabet[(index * 7 + Math.floor(index / 5)) % alphabet.length];
  return out;
}

const AWS_ID = 'AKIA' + 'IOSFODNN7EXAMPLE';
const AWS_SECRET = 'wJalrXUtnFEMI/K7MDENG/' + 'bPxRfiCYEXAMPLEKEY';
const JWT_HS256 = 'eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9' + '.eyJzdWIiOiIxMjM0NTY3ODkwIiwibmFtZSI6IkpvaG4gRG9lIiwiaWF0IjoxNTE2MjM5MDIyfQ' + '.SflKxwRJSMeKKF2QT4fwpMeJf36POk6yJV_adQssw5c';
const PEM_BODY = ['MIIEowIBAAKCAQEAu1SU1LfVLPHCozMxH2Mo4lgOEePzNm0tRgeLezV6ffAt0gun', 'VTLw7onLRnrq0/IzW7yWR7QkrmBL7jTKEn5u+qKhbwKfBstIs+bMY2Zkp18gnTxK', 'LxoS2tFczGkPLPgizskuemMghRniWaoLcyehkd3qqGElvW/VDL5AaWTg0nLVkjRo', 'q1w='];
const rsa = (separator: string): string => ['-----BEGIN RSA PRIVATE KEY-----', ...PEM_BODY, '-----END RSA PRIVATE KEY-----'].join(separator);

/** Each (kind, text, secret) where `secret` must be found exactly ('' = the whole text), and nothing else unless listed. */
const POSITIVES: Array<[SecretKind, string, string, SecretKind[]?]> = [
  ['aws-access-key-id', `AWS_ACCESS_KEY_ID=${AWS_ID}`, AWS_ID],
  ['aws-access-key-id', `"AccessKeyId": "ASIA${'Y3FQ2JUHQ4EXAMPL'}"`, 'ASIAY3FQ2JUHQ4EXAMPL'],
  ['aws-secret-access-key', `aws_secret_access_key = ${AWS_SECRET}\n`, AWS_SECRET],
  ['aws-secret-access-key', `export AWS_SECRET_ACCESS_KEY="${AWS_SECRET}"`, AWS_SECRET],
  ['aws-secret-access-key', `{"SecretAccessKey":"${AWS_SECRET}","SessionToken":"x"}`, AWS_SECRET],
  ['aws-secret-access-key', `User,${AWS_ID},${AWS_SECRET},console`, AWS_SECRET, ['aws-access-key-id']],
  ['github-token', `token ghp_${body(36)} ok`, `ghp_${body(36)}`],
  ['github-token', `gho_${body(36)}`, `gho_${body(36)}`],
  ['github-token', `(ghu_${body(36)})`, `ghu_${body(36)}`],
  ['github-token', `ghs_${body(36)}`, `ghs_${body(36)}`],
  ['github-token', `ghr_${body(76)}`, `ghr_${body(76)}`],
  ['github-token', `GITHUB_TOKEN=github_pat_11${body(20)}_${body(59)}`, `github_pat_11${body(20)}_${body(59)}`],
  ['gitlab-token', `PRIVATE-TOKEN: glpat-${body(20)}.`, `glpat-${body(20)}`],
  ['slack-token', `xoxb-1234567890123-1234567890123-${body(24)}`, `xoxb-1234567890123-1234567890123-${body(24)}`],
  ['slack-token', `"token":"xoxp-${'12345'}-${body(12)}"`, `xoxp-12345-${body(12)}`],
  ['google-api-key', `key=AIza${body(35, 'SyA-_0123456789abcXYZ')}&q=1`, `AIza${body(35, 'SyA-_0123456789abcXYZ')}`],
  ['stripe-key', `sk_live_${body(24)}`, `sk_live_${body(24)}`],
  ['stripe-key', `rk_live_${body(99)}`, `rk_live_${body(99)}`],
  ['openai-key', `OPENAI_API_KEY=sk-${body(48)}`, `sk-${body(48)}`],
  ['openai-key', `sk-proj-${body(40)}_${body(60)}`, `sk-proj-${body(40)}_${body(60)}`],
  ['private-key', `key:\n${rsa('\n')}\nafter`, rsa('\n')],
  ['private-key', `KEY="${rsa(' ')}" next`, rsa(' ')],
  ['private-key', `{"pem": "${rsa('\\n')}\\n"}`, rsa('\\n')],
  ['private-key', `${rsa('\r\n')}`, rsa('\r\n')],
  ['private-key', ['-----BEGIN OPENSSH PRIVATE KEY-----', 'b3BlbnNzaC1rZXktdjEAAAAABG5vbmUAAAAEbm9uZQAAAAAAAAABAAAAMwAAAAtzc2gtZW', '-----END OPENSSH PRIVATE KEY-----'].join('\n'), ''],
  ['private-key', ['-----BEGIN EC PRIVATE KEY-----', 'Proc-Type: 4,ENCRYPTED', 'DEK-Info: AES-128-CBC,A5E4A2D2D2C0C47DB4F0F4D4E1C8C9A0', '', ...PEM_BODY, '-----END EC PRIVATE KEY-----'].join('\n'), ''],
  ['private-key', ['-----BEGIN PGP PRIVATE KEY BLOCK-----', 'Version: GnuPG v2', '', ...PEM_BODY.slice(0, 3), '=AbCd', '-----END PGP PRIVATE KEY BLOCK-----'].join('\n'), ''],
  ['jwt', `Authorization: Bearer ${JWT_HS256}`, JWT_HS256],
  ['jwt', `id_token=${'eyJhbGciOiJub25lIn0'}.${'eyJzdWIiOiIxIn0'}.&state=x`, 'eyJhbGciOiJub25lIn0.eyJzdWIiOiIxIn0.'],
  ['jwt', `jwe ${'eyJhbGciOiJSU0EtT0FFUCIsImVuYyI6IkEyNTZHQ00ifQ'}.${body(40)}.${body(16)}.${body(30)}.${body(22)} end`, `eyJhbGciOiJSU0EtT0FFUCIsImVuYyI6IkEyNTZHQ00ifQ.${body(40)}.${body(16)}.${body(30)}.${body(22)}`],
  ['bearer-token', `authorization: bearer ${body(40)}==`, `${body(40)}==`],
  ['bearer-token', `curl -H 'Authorization: Bearer\t${body(20)}.${body(20)}~x'`, `${body(20)}.${body(20)}~x`],
];

/** Texts that look close to a secret and must not be reported. */
const NEGATIVES: Array<[string, string]> = [
  ['aws id too short', `AKIA${'IOSFODNN7EXAMPL'}`],
  ['aws id lower case', `AKIA${'iosfodnn7example'}`],
  ['aws id inside a longer run', `XAKIA${'IOSFODNN7EXAMPLE'}`],
  ['aws id too long', `${AWS_ID}X`],
  ['aws user id (not a key)', `AIDA${'IOSFODNN7EXAMPLE'}`],
  ['bare 40 characters without context', `value ${AWS_SECRET} here`],
  ['a git SHA after a secret key name', `aws_secret_access_key = ${'4b825dc642cb6eb9a060e54bf8d69288fbee4904'}`],
  ['41 characters after a secret key name', `aws_secret_access_key = ${AWS_SECRET}Z`],
  ['github token too short', `ghp_${body(35)}`],
  ['github unknown prefix', `ghx_${body(36)}`],
  ['github prefix with a hyphen', `ghp-${body(36)}`],
  ['github prefix inside a word', `xghp_${body(36)}`],
  ['github_pat too short', `github_pat_${body(30)}`],
  ['gitlab too short', `glpat-${body(19)}`],
  ['gitlab underscore', `glpat_${body(20)}`],
  ['slack unknown type', `xoxz-1234567890-${body(12)}`],
  ['slack without a digit', 'xoxb-abcdefghijklmnop-qrstuvwx'],
  ['slack too short', 'xoxb-12345678'],
  ['google key too short', `AIza${body(34)}`],
  ['google key too long', `AIza${body(36)}`],
  ['stripe test key', `sk_test_${body(24)}`],
  ['stripe publishable key', `pk_live_${body(24)}`],
  ['openai too short', `sk-${body(31)}`],
  ['scikit-learn', 'pip install scikit-learn sk-learn'],
  ['a long slug', 'sk-this-is-a-very-long-hyphenated-slug-name-for-docs'],
  ['low entropy', `sk-${'Test1'.repeat(8)}`],
  ['sk- inside a word', `task-${body(40)}`],
  ['public key', ['-----BEGIN PUBLIC KEY-----', ...PEM_BODY, '-----END PUBLIC KEY-----'].join('\n')],
  ['certificate', ['-----BEGIN CERTIFICATE-----', ...PEM_BODY, '-----END CERTIFICATE-----'].join('\n')],
  ['jwt-like without alg', `${Buffer.from('{"foo":1}').toString('base64url')}.${body(20)}.${body(20)}`],
  ['jwt-like header not JSON', `eyJ${body(20)}.${body(20)}.${body(20)}`],
  ['two segments', 'eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxIn0'],
  ['bearer prose', 'Bearer token-based authentication is described in RFC 6750'],
  ['bearer placeholder', 'Authorization: Bearer YOUR_ACCESS_TOKEN_HERE'],
  ['bearer angle placeholder', 'Authorization: Bearer <token>'],
  ['bearer variable', 'Authorization: Bearer ${MCP_API_KEY}'],
  ['bearer of a letter', 'the bearer of this letter is welcome'],
];

describe('secret detectors', () => {
  it.each(POSITIVES)('finds %s in %j', (kind, text, secret, others = []) => {
    const spans = findSecretSpans(text);
    expect(spans.map((span) => span.kind).sort()).toEqual([kind, ...others].sort());
    const span = spans.find((candidate) => candidate.kind === kind) as { start: number; end: number };
    if (secret !== '') expect(text.slice(span.start, span.end)).toBe(secret);
    else expect(text.slice(span.start, span.end)).toBe(text);
    const redacted = redactText(text);
    expect(redacted).toContain(`[REDACTED:${kind}]`);
    if (others.length === 0) expect(redacted).toBe(text.slice(0, span.start) + `[REDACTED:${kind}]` + text.slice(span.end));
    expect(redacted).not.toContain(text.slice(span.start, span.end));
  });

  it('looks for a bare AWS secret only within 256 characters after an access key id', () => {
    expect(scanText(`${AWS_ID} ${'.'.repeat(200)} ${AWS_SECRET}`)).toEqual(['aws-access-key-id', 'aws-secret-access-key']);
    expect(scanText(`${AWS_ID} ${'.'.repeat(300)} ${AWS_SECRET}`)).toEqual(['aws-access-key-id']);
    expect(scanText(`${AWS_SECRET} ${AWS_ID}`)).toEqual(['aws-access-key-id']);
    // A 41-character run whose first 40 end exactly where the window does is not a secret.
    expect(scanText(`${AWS_ID}${' '.repeat(217)}${AWS_SECRET}Z`)).toEqual(['aws-access-key-id']);
    expect(scanText(`${AWS_ID}${' '.repeat(216)}${AWS_SECRET}`)).toEqual(['aws-access-key-id', 'aws-secret-access-key']);
  });

  it.each(NEGATIVES)('does not report %s', (_name, text) => {
    expect(findSecretSpans(text)).toEqual([]);
    expect(redactText(text)).toBe(text);
  });

  it('covers every kind with a true positive', () => {
    expect(new Set(POSITIVES.map(([kind]) => kind))).toEqual(new Set(SECRET_KINDS));
  });

  it('redacts a private key without an END line: the header and its base64 lines, not the prose after', () => {
    const text = `oops\n${['-----BEGIN PRIVATE KEY-----', ...PEM_BODY.slice(0, 2)].join('\n')}\nThe rest of the message.`;
    expect(redactText(text)).toBe('oops\n[REDACTED:private-key]\nThe rest of the message.');
  });

  it('labels overlapping finds with the most specific kind, and keeps "Bearer " readable', () => {
    expect(redactText(`Authorization: Bearer ${JWT_HS256}`)).toBe('Authorization: Bearer [REDACTED:jwt]');
    expect(scanText(`a ${AWS_ID} b ghp_${body(36)} c`)).toEqual(['aws-access-key-id', 'github-token']);
  });

  it('names a whole JSON value as an AWS secret by its member name only when it looks like one', () => {
    expect(namedSecretKind('SecretAccessKey', AWS_SECRET)).toBe('aws-secret-access-key');
    expect(namedSecretKind('AWS_SECRET_ACCESS_KEY', AWS_SECRET)).toBe('aws-secret-access-key');
    expect(namedSecretKind('aws-secret-key', AWS_SECRET)).toBe('aws-secret-access-key');
    expect(namedSecretKind('description', AWS_SECRET)).toBeUndefined();
    expect(namedSecretKind('SecretAccessKey', 'x'.repeat(40))).toBeUndefined();
    expect(namedSecretKind('SecretAccessKey', `${AWS_SECRET}Z`)).toBeUndefined();
  });

  it('entropy: random keys score high, repeated text low', () => {
    expect(shannonEntropy(body(48))).toBeGreaterThan(3.5);
    expect(shannonEntropy('Test1'.repeat(8))).toBeLessThan(3.5);
  });
});

/** True when a quantified group contains an unbounded quantifier (`*`, `+`, `{n,}`): the shape of catastrophic backtracking. */
function hasNestedUnboundedQuantifier(source: string): boolean {
  const groups: boolean[] = [];
  let lastGroupUnbounded: boolean | undefined;
  for (let index = 0; index < source.length; index++) {
    const char = source[index] as string;
    if (char === '\\') {
      index++;
      lastGroupUnbounded = undefined;
      continue;
    }
    if (char === '[') {
      for (index++; index < source.length && source[index] !== ']'; index++) if (source[index] === '\\') index++;
      lastGroupUnbounded = undefined;
      continue;
    }
    if (char === '(') {
      groups.push(false);
      lastGroupUnbounded = undefined;
      continue;
    }
    if (char === ')') {
      lastGroupUnbounded = groups.pop() ?? false;
      if (lastGroupUnbounded && groups.length > 0) groups[groups.length - 1] = true;
      continue;
    }
    const braces = /^\{(\d+)(,(\d*))?\}/.exec(source.slice(index));
    const quantifier = char === '*' || char === '+' || char === '?' || braces !== null;
    if (quantifier) {
      const unbounded = char === '*' || char === '+' || (braces !== null && braces[2] !== undefined && braces[3] === '');
      if (lastGroupUnbounded === true) return true;
      if (unbounded) for (let level = 0; level < groups.length; level++) groups[level] = true;
      if (braces !== null) index += braces[0].length - 1;
      lastGroupUnbounded = undefined;
      continue;
    }
    lastGroupUnbounded = undefined;
  }
  return false;
}

describe('linear time by design', () => {
  it('no detector pattern has a quantified group containing an unbounded quantifier', () => {
    expect(hasNestedUnboundedQuantifier('(a+)+')).toBe(true);
    expect(hasNestedUnboundedQuantifier('(?:x[a-z]*){2}')).toBe(true);
    expect(hasNestedUnboundedQuantifier('(?:[A-Z]{1,16} ){0,4}a+')).toBe(false);
    expect(DETECTOR_PATTERNS.length).toBeGreaterThanOrEqual(14);
    for (const pattern of DETECTOR_PATTERNS) expect([pattern.source, hasNestedUnboundedQuantifier(pattern.source)]).toEqual([pattern.source, false]);
  });

  /** 1 MiB of `unit` repeated: the hostile inputs for each detector. */
  const hostile: Array<[string, string]> = [
    ['aws ids', 'AKIA'],
    ['aws ids and near-secret runs', `${AWS_ID} ${'A1b/'.repeat(70)} `],
    ['aws secret key names', 'aws_secret_access_key='],
    ['github prefixes', 'ghp_'],
    ['github long runs', `ghp_${'a'.repeat(300)}_`],
    ['github_pat prefixes', 'github_pat_'],
    ['gitlab prefixes', 'glpat-'],
    ['slack prefixes', 'xoxb-'],
    ['google prefixes', 'AIza'],
    ['stripe prefixes', 'sk_live_'],
    ['openai prefixes', 'sk-'],
    ['openai long low-entropy runs', `sk-${'a'.repeat(400)} `],
    ['private key headers', '-----BEGIN PRIVATE KEY-----'],
    ['private key headers and short lines', '-----BEGIN RSA PRIVATE KEY-----\nAAAA\n'],
    ['private key footers', '\n-----END RSA PRIVATE KEY-----'],
    ['jwt prefixes', 'eyJ'],
    ['jwt header and dot', 'eyJhbGciOiJIUzI1NiJ9.'],
    ['jwt one dot then a long run', `eyJhbGciOiJIUzI1NiJ9.${'x'.repeat(4096)}`],
    ['bearer words', 'Bearer '],
    ['bearer short tokens', `Bearer ${'a'.repeat(15)} `],
  ];

  it.each(hostile)('scans 1 MiB of %s', (_name, unit) => {
    const text = unit.repeat(Math.ceil(MIB / unit.length)).slice(0, MIB);
    const spans = findSecretSpans(text);
    // Finished (the design bounds the work); the spans are sorted and disjoint.
    let disorder = 0;
    for (let index = 1; index < spans.length; index++) if ((spans[index] as { start: number }).start < (spans[index - 1] as { end: number }).end) disorder++;
    expect(disorder).toBe(0);
    expect(redactText(text).length).toBeGreaterThan(0);
  });
});

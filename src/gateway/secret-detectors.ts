/**
 * @module gateway/secret-detectors
 * The secret formats the gateway looks for in tool arguments and results, and where each one
 * sits in a text. {@link findSecretSpans} returns sorted, non-overlapping spans; callers redact
 * them (`gateway/secrets`) and never copy the matched text anywhere.
 *
 * | kind | matches | guards against false positives |
 * | --- | --- | --- |
 * | `aws-access-key-id` | `AKIA` or `ASIA` + 16 of `[A-Z0-9]` | not inside a longer alphanumeric run |
 * | `aws-secret-access-key` | 40 of `[A-Za-z0-9/+]` after a key name (`aws_secret_access_key`, `SecretAccessKey`, `aws-secret-key`, any case, `:` or `=`, optional quotes), or within 256 characters after an access key id, or as the whole value of a JSON member with such a name ({@link namedSecretKind}) | must mix upper case, lower case and digits (so 40-hex git SHAs and placeholders are not it); a bare 40-character string with neither context is never reported |
 * | `github-token` | `ghp_` `gho_` `ghu_` `ghs_` `ghr_` + 36-251 alphanumerics; `github_pat_` + 40-255 of `[A-Za-z0-9_]` | not preceded by a word character |
 * | `gitlab-token` | `glpat-` + 20-255 of `[A-Za-z0-9_.-]` (trailing dots dropped) | not preceded by a word character or `-` |
 * | `slack-token` | `xoxa-` `xoxb-` `xoxp-` `xoxr-` `xoxs-` + 10-255 of `[A-Za-z0-9-]` | must contain a digit |
 * | `google-api-key` | `AIza` + exactly 35 of `[A-Za-z0-9_-]` | exact length |
 * | `stripe-key` | `sk_live_` or `rk_live_` + 20-247 alphanumerics | live keys only (test-mode keys reach no money) |
 * | `openai-key` | `sk-` + 32-255 of `[A-Za-z0-9_-]` (OpenAI `sk-`, `sk-proj-`; Anthropic `sk-ant-` has the same shape) | the part after `sk-` must mix upper case, lower case and digits and carry at least 3.5 bits of Shannon entropy per character, so `sk-this-is-a-long-slug-name…` or `sk-Test1Test1…` is not it |
 * | `private-key` | `-----BEGIN … PRIVATE KEY-----` (RSA, EC, DSA, OPENSSH, ENCRYPTED, PGP … BLOCK) through its base64 lines to `-----END …-----`; lines may be separated by newlines, spaces or escaped `\n`; without an END, the header and the base64 lines of 16+ characters after it | public keys and certificates are not matched |
 * | `jwt` | `eyJ…` three base64url segments (five for JWE) | the first segment must decode to a JSON object with a string `alg` |
 * | `bearer-token` | the token after `Bearer ` (any case, 1-8 spaces or tabs), 16-4096 RFC 6750 token characters | must contain a letter and a digit, so `Bearer token-based auth` or `Bearer YOUR_ACCESS_TOKEN` is not it |
 *
 * Where spans overlap they are merged and labelled with the kind listed first above (a JWT after
 * `Bearer ` is a `jwt`). Only the token is marked after `Bearer `, so `Bearer [REDACTED:jwt]` reads.
 * Tokens longer than the upper bounds are marked up to the bound (the rest is not a usable token).
 *
 * **Linear time by design**, so a 1 MiB hostile string costs a few passes over it: a detector
 * runs only when the text contains one of its literal hints (`String.includes`); every pattern is
 * a literal prefix followed by bounded or consuming character classes, with no quantified group
 * that contains an unbounded quantifier (no catastrophic backtracking is possible); a failed
 * attempt scans at most a bounded distance or a run that no later attempt rescans; the private
 * key body and the AWS proximity window are scanned with sticky patterns over bounded windows.
 * Hand-written: the secret-scanning libraries on npm are CLI tools over files, not a function
 * over a string with bounded work.
 */

/** Every kind, most specific first (the order that labels merged spans). */
export const SECRET_KINDS = [
  'private-key',
  'jwt',
  'aws-access-key-id',
  'aws-secret-access-key',
  'github-token',
  'gitlab-token',
  'slack-token',
  'google-api-key',
  'stripe-key',
  'openai-key',
  'bearer-token',
] as const;

export type SecretKind = (typeof SECRET_KINDS)[number];

/** Where a secret sits in a text: `[start, end)`. */
export interface SecretSpan {
  readonly start: number;
  readonly end: number;
  readonly kind: SecretKind;
}

/** Texts shorter than this hold no secret of any kind (the shortest is a Slack token). */
export const MIN_SECRET_LENGTH = 15;

interface Detector {
  readonly kind: SecretKind;
  /** The detector runs only when the text contains one of these. */
  readonly hints: readonly string[];
  find(text: string, found: SecretSpan[]): void;
}

/**
 * A global pattern; the secret is capture group `group` (0: the whole match), which must end
 * the match (only lookaheads may follow it), accepted by `accept`, `trim` removed from its end.
 * Patterns are shared: `find` is synchronous and resets `lastIndex` first.
 */
function patternDetector(
  kind: SecretKind,
  hints: readonly string[],
  pattern: RegExp,
  options: { group?: number; accept?: (secret: string) => boolean; trim?: RegExp } = {},
): Detector & { readonly pattern: RegExp } {
  return {
    kind,
    hints,
    pattern,
    find(text, found) {
      pattern.lastIndex = 0;
      for (let match = pattern.exec(text); match !== null; match = pattern.exec(text)) {
        const raw = match[options.group ?? 0];
        if (raw === undefined) continue;
        const secret = options.trim === undefined ? raw : raw.replace(options.trim, '');
        if (secret.length === 0 || (options.accept !== undefined && !options.accept(secret))) continue;
        const start = match.index + match[0].length - raw.length;
        found.push({ kind, start, end: start + secret.length });
      }
    },
  };
}

/** Bits of Shannon entropy per character. */
export function shannonEntropy(text: string): number {
  const counts = new Map<string, number>();
  for (const char of text) counts.set(char, (counts.get(char) ?? 0) + 1);
  let bits = 0;
  for (const count of counts.values()) {
    const p = count / text.length;
    bits -= p * Math.log2(p);
  }
  return bits;
}

/** Upper case, lower case and a digit: random keys almost always have all three. */
function mixed(text: string): boolean {
  return /[A-Z]/.test(text) && /[a-z]/.test(text) && /[0-9]/.test(text);
}

const AWS_ID = /(?<![A-Za-z0-9])(?:AKIA|ASIA)[A-Z0-9]{16}(?![A-Za-z0-9])/g;
const AWS_SECRET_NAMED =
  /(?<![A-Za-z0-9])(?:aws[_-]?secret[_-]?(?:access[_-]?)?key|secret[_-]?access[_-]?key)["']?[ \t]{0,4}[:=][ \t]{0,4}["']?([A-Za-z0-9/+]{40})(?![A-Za-z0-9/+=])/gi;
const AWS_SECRET_BARE = /(?<![A-Za-z0-9/+])[A-Za-z0-9/+]{40}(?![A-Za-z0-9/+=])/g;
/** How far after an access key id a bare 40-character secret is looked for. */
const AWS_PROXIMITY = 256;

/** Access key ids, and 40-character secrets close after them. */
const awsIdDetector: Detector & { readonly pattern: RegExp } = {
  kind: 'aws-access-key-id',
  hints: ['AKIA', 'ASIA'],
  pattern: AWS_ID,
  find(text, found) {
    AWS_ID.lastIndex = 0;
    for (let match = AWS_ID.exec(text); match !== null; match = AWS_ID.exec(text)) {
      const end = match.index + match[0].length;
      found.push({ kind: 'aws-access-key-id', start: match.index, end });
      // A bounded window plus one character, so the boundary after a secret ending within
      // AWS_PROXIMITY is seen; ids are at least 20 characters apart, so the total is linear.
      const window = text.slice(end, end + AWS_PROXIMITY + 1);
      AWS_SECRET_BARE.lastIndex = 0;
      for (let candidate = AWS_SECRET_BARE.exec(window); candidate !== null; candidate = AWS_SECRET_BARE.exec(window)) {
        if (candidate.index + 40 > AWS_PROXIMITY) break;
        if (mixed(candidate[0])) found.push({ kind: 'aws-secret-access-key', start: end + candidate.index, end: end + candidate.index + 40 });
      }
    }
  },
};

const PEM_HEADER = /-----BEGIN (?:[A-Z0-9]{1,16} ){0,4}PRIVATE KEY(?: BLOCK)?-----/g;
const PEM_SEPARATOR = '(?:[ \\t]|\\r?\\n|(?:\\\\r)?\\\\n){1,8}';
/** One body chunk: a PEM header line (encrypted keys, PGP armor) or 16+ base64 characters. */
const PEM_CHUNK = new RegExp(`${PEM_SEPARATOR}(?:(?:Proc-Type|DEK-Info|Version|Comment):[^\\r\\n\\\\]{0,256}|[A-Za-z0-9+/=]{16,4096})`, 'y');
/** The footer, possibly after one short last line (a final base64 line, a PGP checksum). */
const PEM_FOOTER = new RegExp(`${PEM_SEPARATOR}(?:[A-Za-z0-9+/=]{1,15}${PEM_SEPARATOR})?-----END [A-Z0-9 ]{0,64}-----`, 'y');
/** Most characters of body consumed after one header. */
const PEM_MAX_BODY = 65_536;

const privateKeyDetector: Detector & { readonly pattern: RegExp } = {
  kind: 'private-key',
  hints: ['PRIVATE KEY'],
  pattern: PEM_HEADER,
  find(text, found) {
    const headers = PEM_HEADER;
    const chunk = PEM_CHUNK;
    const footer = PEM_FOOTER;
    headers.lastIndex = 0;
    for (let match = headers.exec(text); match !== null; match = headers.exec(text)) {
      const bodyStart = match.index + match[0].length;
      let end = bodyStart;
      chunk.lastIndex = end;
      while (end - bodyStart < PEM_MAX_BODY && chunk.exec(text) !== null) end = chunk.lastIndex;
      footer.lastIndex = end;
      if (footer.exec(text) !== null) end = footer.lastIndex;
      found.push({ kind: 'private-key', start: match.index, end });
      headers.lastIndex = Math.max(headers.lastIndex, end);
    }
  },
};

const JWT = /(?<![A-Za-z0-9_.-])eyJ[A-Za-z0-9_-]{1,8192}\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]{0,8192}/g;
const JWE_TAIL = /\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]{0,8192}/y;

/** The JOSE header of a compact JWS/JWE, or undefined when the segment is not one. */
function joseHeader(segment: string): Record<string, unknown> | undefined {
  try {
    const header = JSON.parse(Buffer.from(segment, 'base64url').toString('utf8')) as unknown;
    if (header === null || typeof header !== 'object' || Array.isArray(header)) return undefined;
    const record = header as Record<string, unknown>;
    return typeof record['alg'] === 'string' ? record : undefined;
  } catch {
    return undefined;
  }
}

const jwtDetector: Detector & { readonly pattern: RegExp } = {
  kind: 'jwt',
  hints: ['eyJ'],
  pattern: JWT,
  find(text, found) {
    const tokens = JWT;
    const tail = JWE_TAIL;
    tokens.lastIndex = 0;
    for (let match = tokens.exec(text); match !== null; match = tokens.exec(text)) {
      const header = joseHeader(match[0].slice(0, match[0].indexOf('.')));
      if (header === undefined) continue;
      let end = match.index + match[0].length;
      if (typeof header['enc'] === 'string') {
        tail.lastIndex = end;
        if (tail.exec(text) !== null) end = tail.lastIndex;
        tokens.lastIndex = end;
      }
      found.push({ kind: 'jwt', start: match.index, end });
    }
  },
};

const AWS_SECRET_NAME = /^(?:aws[_-]?secret[_-]?(?:access[_-]?)?key|secret[_-]?access[_-]?key)$/i;

/**
 * The kind of secret a whole string is because of the name it is stored under, for JSON values
 * where the key and the value are separate strings: `{"SecretAccessKey": "wJalr…"}`. Today only
 * AWS secret access keys (the same names and the same 40-character, mixed-class rule as in text).
 */
export function namedSecretKind(name: string, value: string): SecretKind | undefined {
  if (value.length !== 40 || !AWS_SECRET_NAME.test(name)) return undefined;
  return /^[A-Za-z0-9/+]{40}$/.test(value) && mixed(value) ? 'aws-secret-access-key' : undefined;
}

/** Every detector, in the order they run (the label order is {@link SECRET_KINDS}). */
const DETECTORS: ReadonlyArray<Detector & { readonly pattern: RegExp }> = [
  privateKeyDetector,
  jwtDetector,
  awsIdDetector,
  patternDetector('aws-secret-access-key', ['ecret', 'ECRET'], AWS_SECRET_NAMED, { group: 1, accept: mixed }),
  patternDetector('github-token', ['ghp_', 'gho_', 'ghu_', 'ghs_', 'ghr_'], /(?<![A-Za-z0-9_])gh[pousr]_[A-Za-z0-9]{36,251}/g),
  patternDetector('github-token', ['github_pat_'], /(?<![A-Za-z0-9_])github_pat_[A-Za-z0-9_]{40,255}/g),
  patternDetector('gitlab-token', ['glpat-'], /(?<![A-Za-z0-9_-])glpat-[A-Za-z0-9_.-]{20,255}/g, { trim: /\.+$/ }),
  patternDetector('slack-token', ['xox'], /(?<![A-Za-z0-9])xox[abprs]-[A-Za-z0-9-]{10,255}/g, { accept: (token) => /[0-9]/.test(token.slice(5)) }),
  patternDetector('google-api-key', ['AIza'], /(?<![A-Za-z0-9_-])AIza[A-Za-z0-9_-]{35}(?![A-Za-z0-9_-])/g),
  patternDetector('stripe-key', ['_live_'], /(?<![A-Za-z0-9_])[sr]k_live_[A-Za-z0-9]{20,247}/g),
  patternDetector('openai-key', ['sk-'], /(?<![A-Za-z0-9_-])sk-[A-Za-z0-9_-]{32,255}/g, {
    accept: (key) => mixed(key.slice(3)) && shannonEntropy(key.slice(3)) >= 3.5,
  }),
  patternDetector('bearer-token', ['earer', 'EARER'], /(?<![A-Za-z0-9])[Bb][Ee][Aa][Rr][Ee][Rr][ \t]{1,8}([A-Za-z0-9._~+/-]{16,4096}={0,2})/g, {
    group: 1,
    accept: (token) => /[0-9]/.test(token) && /[A-Za-z]/.test(token),
  }),
];

/** Every pattern the detectors run, for tests that check their shape. */
export const DETECTOR_PATTERNS: readonly RegExp[] = [...DETECTORS.map((detector) => detector.pattern), AWS_SECRET_BARE, PEM_CHUNK, PEM_FOOTER, JWE_TAIL];

const RANK = new Map<SecretKind, number>(SECRET_KINDS.map((kind, index) => [kind, index]));

/**
 * The secrets in `text`: sorted, non-overlapping spans, overlapping finds merged under the
 * most specific kind.
 *
 * @example
 * findSecretSpans('token ghp_' + 'a1'.repeat(18)); // [{ kind: 'github-token', start: 6, end: 46 }]
 */
export function findSecretSpans(text: string): SecretSpan[] {
  if (text.length < MIN_SECRET_LENGTH) return [];
  const found: SecretSpan[] = [];
  for (const detector of DETECTORS) {
    if (detector.hints.some((hint) => text.includes(hint))) detector.find(text, found);
  }
  if (found.length <= 1) return found;
  found.sort((a, b) => a.start - b.start || b.end - a.end);
  const merged: SecretSpan[] = [];
  for (const span of found) {
    const last = merged[merged.length - 1];
    if (last === undefined || span.start >= last.end) {
      merged.push(span);
      continue;
    }
    const kind = (RANK.get(span.kind) ?? 0) < (RANK.get(last.kind) ?? 0) ? span.kind : last.kind;
    merged[merged.length - 1] = { kind, start: last.start, end: Math.max(last.end, span.end) };
  }
  return merged;
}

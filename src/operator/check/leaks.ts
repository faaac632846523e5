/**
 * @module operator/check/leaks
 * Patterns of internals in error bodies: stack traces and file paths (a FAIL: they map the
 * server for an attacker, CWE-209), exception class names and echoed input (a WARN).
 * Bodies are scanned raw and with JSON string escapes undone, since a stack inside a JSON
 * string arrives as `\n    at ...`.
 */

export type LeakSeverity = 'FAIL' | 'WARN';

export interface Leak {
  readonly kind: string;
  readonly severity: LeakSeverity;
  /** A short excerpt of what matched (already bounded). */
  readonly excerpt: string;
}

interface Pattern {
  readonly kind: string;
  readonly severity: LeakSeverity;
  readonly pattern: RegExp;
}

const PATTERNS: readonly Pattern[] = [
  // V8: "    at fn (/srv/app/x.js:10:5)", "at node:internal/...", "at file:///app/x.mjs:1:2"
  { kind: 'stack trace', severity: 'FAIL', pattern: /\bat (?:[\w$.<>[\] ]+ \()?(?:file:\/\/|node:|\/|[A-Za-z]:\\)[^\s)]*:\d+:\d+\)?/ },
  { kind: 'stack trace', severity: 'FAIL', pattern: /Traceback \(most recent call last\)/ },
  { kind: 'stack trace', severity: 'FAIL', pattern: /\bat [\w$.]+\([\w$]+\.(?:java|kt|scala):\d+\)/ },
  { kind: 'stack trace', severity: 'FAIL', pattern: /goroutine \d+ \[[a-z ]+\]:/ },
  { kind: 'stack trace', severity: 'FAIL', pattern: /\bat [\w.<>`]+\(.*\) in .+:line \d+/ },
  { kind: 'file path', severity: 'FAIL', pattern: /(?:^|[\s"'(=:])\/(?:home|Users|usr|var|opt|srv|app|root|tmp|etc|mnt|workspace|builds?)\/[\w.@+-]+\/[^\s"'<>)]*/ },
  { kind: 'file path', severity: 'FAIL', pattern: /\b[A-Za-z]:\\(?:[\w .@+-]+\\)+[\w .@+-]*/ },
  { kind: 'file path', severity: 'FAIL', pattern: /file:\/\/\/[^\s"'<>)]+|\bnode_modules[\\/]/ },
  { kind: 'exception message', severity: 'WARN', pattern: /\b(?:TypeError|ReferenceError|SyntaxError|RangeError|ZodError|ValidationError|Exception)\b[:\s]/ },
  { kind: 'exception message', severity: 'WARN', pattern: /\b(?:ECONNREFUSED|ENOENT|EACCES|SQLITE_\w+|ORA-\d{5})\b/ },
];

const MAX_EXCERPT = 80;

/** Undoes the JSON string escapes that would hide a stack or path. */
function unescapeJson(text: string): string {
  return text.replace(/\\r\\n|\\n/g, '\n').replace(/\\t/g, '\t').replace(/\\\//g, '/').replace(/\\\\/g, '\\').replace(/\\"/g, '"');
}

/**
 * The leaks found in `text`; `canary` is a random marker the request carried (its
 * presence means the server echoes input).
 *
 * @example
 * findLeaks('{"error":"at handler (/srv/app/index.js:12:7)"}'); // [{ kind: 'stack trace', ... }]
 */
export function findLeaks(text: string, canary?: string): Leak[] {
  const leaks: Leak[] = [];
  const seen = new Set<string>();
  for (const variant of [text, unescapeJson(text)]) {
    for (const { kind, severity, pattern } of PATTERNS) {
      const match = pattern.exec(variant);
      if (match === null || seen.has(kind)) continue;
      seen.add(kind);
      leaks.push({ kind, severity, excerpt: match[0].trim().slice(0, MAX_EXCERPT) });
    }
  }
  if (canary !== undefined && text.includes(canary)) leaks.push({ kind: 'echoed input', severity: 'WARN', excerpt: canary });
  return leaks;
}

/**
 * @module gateway/canonical-json
 * One text per JSON value, so equal definitions hash equal: object keys sorted by UTF-16 code
 * units, no whitespace, numbers and strings as `JSON.stringify` writes them. For JSON data this
 * is the JSON Canonicalization Scheme (RFC 8785, §3.2): the same key order (§3.2.3), ECMAScript
 * number serialization (§3.2.2.3) and minimal string escaping.
 *
 * Like `JSON.stringify`, object members whose value is `undefined`, a function or a symbol are
 * left out, the same in arrays become `null`, non-finite numbers become `null`, and `toJSON` is
 * honoured; a bigint or a cycle throws a TypeError.
 *
 * Iterative, not recursive: tool definitions come from upstream servers nobody here wrote, and a
 * deeply nested schema must not overflow the stack. Work and memory are linear in the input.
 * Hand-written because it is ~60 lines and the packages for it are recursive.
 */

type Task =
  | { readonly kind: 'value'; readonly value: unknown }
  | { readonly kind: 'text'; readonly text: string }
  | { readonly kind: 'leave'; readonly object: object };

function isOmitted(value: unknown): boolean {
  return value === undefined || typeof value === 'function' || typeof value === 'symbol';
}

/**
 * The canonical JSON text of `value`.
 *
 * @example
 * canonicalJson({ b: [1, 'x'], a: { d: null, c: true } }); // '{"a":{"c":true,"d":null},"b":[1,"x"]}'
 */
export function canonicalJson(value: unknown): string {
  const out: string[] = [];
  const open = new Set<object>();
  const stack: Task[] = [{ kind: 'value', value }];
  for (let task = stack.pop(); task !== undefined; task = stack.pop()) {
    if (task.kind === 'text') {
      out.push(task.text);
      continue;
    }
    if (task.kind === 'leave') {
      open.delete(task.object);
      continue;
    }
    let current = task.value;
    if (current !== null && typeof current === 'object' && typeof (current as { toJSON?: unknown }).toJSON === 'function') {
      current = (current as { toJSON: () => unknown }).toJSON();
    }
    // Members with such values were filtered out of objects already; in arrays they are null.
    if (isOmitted(current)) {
      out.push('null');
      continue;
    }
    if (typeof current === 'bigint') throw new TypeError('canonicalJson: a bigint has no JSON form');
    if (current === null || typeof current !== 'object') {
      out.push(JSON.stringify(current));
      continue;
    }
    if (open.has(current)) throw new TypeError('canonicalJson: the value contains a cycle');
    open.add(current);
    stack.push({ kind: 'leave', object: current });
    if (Array.isArray(current)) {
      stack.push({ kind: 'text', text: ']' });
      for (let index = current.length - 1; index >= 0; index--) {
        stack.push({ kind: 'value', value: current[index] });
        if (index > 0) stack.push({ kind: 'text', text: ',' });
      }
      stack.push({ kind: 'text', text: '[' });
      continue;
    }
    const record = current as Record<string, unknown>;
    // Default sort compares UTF-16 code units, as RFC 8785 §3.2.3 requires.
    const keys = Object.keys(record)
      .filter((key) => !isOmitted(record[key]))
      .sort();
    stack.push({ kind: 'text', text: '}' });
    for (let index = keys.length - 1; index >= 0; index--) {
      const key = keys[index] as string;
      stack.push({ kind: 'value', value: record[key] });
      stack.push({ kind: 'text', text: `${index > 0 ? ',' : ''}${JSON.stringify(key)}:` });
    }
    stack.push({ kind: 'text', text: '{' });
  }
  return out.join('');
}

/**
 * @module mcp/transport/modern-headers
 * The header checks of MCP 2026-07-28 Streamable HTTP ("Standard request headers" and
 * "Schema extension: x-mcp-header"): a modern request must carry `MCP-Protocol-Version` and
 * `Mcp-Method`, plus `Mcp-Name` for `tools/call`, `prompts/get` and `resources/read`, and an
 * `Mcp-Param-{Name}` header for every tool argument whose schema property declares
 * `x-mcp-header: Name`; each must equal the body (after decoding the Base64 sentinel
 * `=?base64?…?=`). Disagreement is answered 400 with `HeaderMismatch` (-32020).
 *
 * Written here because the SDK's versions of these checks (`validateStandardRequestHeaders`,
 * `validateMcpParamHeaders`) are package-internal in 2.4.0, and because ours must not quote
 * header or body values back: the refusal names only which header disagreed. The semantics
 * follow the SDK's (SEP-2243) so both answer the same requests the same way.
 *
 * Everything here is a pure function of raw Node headers (lower-case names; a repeated
 * header arrives joined with ", ", so it can never equal a single body value).
 */

type RawHeaders = Readonly<Record<string, string | readonly string[] | undefined>>;

/** Why a modern request's headers were refused: which header, for the log and the error message. */
export interface HeaderRefusal {
  /** Log tag: `version-header-missing`, `name-header-mismatch`, `param-header-missing`... */
  readonly cell: string;
  /** The header concerned, in its canonical spelling (never its value). */
  readonly header: string;
  /** The public message: fixed text naming the header. */
  readonly message: string;
}

/** Which body field `Mcp-Name` mirrors, per method (SEP-2243's "Required For" column, plus tasks/*). */
const NAME_SOURCE: Readonly<Record<string, 'name' | 'uri' | 'taskId'>> = Object.freeze(
  Object.assign(Object.create(null) as Record<string, 'name' | 'uri' | 'taskId'>, {
    'tools/call': 'name',
    'prompts/get': 'name',
    'resources/read': 'uri',
    'tasks/get': 'taskId',
    'tasks/update': 'taskId',
    'tasks/cancel': 'taskId',
  }),
);

const SENTINEL_PREFIX = '=?base64?';
const SENTINEL_SUFFIX = '?=';
const BASE64_CANONICAL = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;
const CANONICAL_DECIMAL = /^-?\d+(\.\d+)?$/;
const UTF8 = new TextDecoder('utf-8', { fatal: true });

function header(headers: RawHeaders, name: string): string | undefined {
  const value = headers[name];
  return value === undefined ? undefined : typeof value === 'string' ? value : value.join(', ');
}

function refusal(cell: string, headerName: string, what: string): HeaderRefusal {
  return { cell, header: headerName, message: `Header mismatch: ${headerName} ${what}` };
}

/** Strips RFC 9110 optional whitespace (SP, HTAB) around a field value. */
function stripOws(value: string): string {
  let start = 0;
  let end = value.length;
  while (start < end && (value.charCodeAt(start) === 32 || value.charCodeAt(start) === 9)) start++;
  while (end > start && (value.charCodeAt(end - 1) === 32 || value.charCodeAt(end - 1) === 9)) end--;
  return start === 0 && end === value.length ? value : value.slice(start, end);
}

/**
 * Decodes a header value that may carry the Base64 sentinel (case-sensitive markers): the
 * payload must be canonical Base64 of valid UTF-8. Returns the value itself when it carries no
 * sentinel, undefined when the sentinel is malformed.
 */
export function decodeSentinel(value: string): string | undefined {
  if (!(value.length >= SENTINEL_PREFIX.length + SENTINEL_SUFFIX.length && value.startsWith(SENTINEL_PREFIX) && value.endsWith(SENTINEL_SUFFIX))) return value;
  const b64 = value.slice(SENTINEL_PREFIX.length, value.length - SENTINEL_SUFFIX.length);
  if (!BASE64_CANONICAL.test(b64)) return undefined;
  try {
    return UTF8.decode(Buffer.from(b64, 'base64'));
  } catch {
    return undefined;
  }
}

/**
 * The standard-header rung for one modern request (notifications carry no obligations here):
 * `MCP-Protocol-Version` and `Mcp-Method` present (their equality with the body is checked by
 * the era classifier), `Mcp-Name` present and equal to the body's name/uri when the method has one.
 */
export function checkStandardHeaders(headers: RawHeaders, method: string, params: unknown): HeaderRefusal | undefined {
  if (header(headers, 'mcp-protocol-version') === undefined) return refusal('version-header-missing', 'MCP-Protocol-Version', 'is required');
  if (header(headers, 'mcp-method') === undefined) return refusal('method-header-missing', 'Mcp-Method', 'is required');
  const field = NAME_SOURCE[method];
  if (field === undefined) return undefined;
  const raw = params !== null && typeof params === 'object' && !Array.isArray(params) ? (params as Record<string, unknown>)[field] : undefined;
  const bodyValue = typeof raw === 'string' ? raw : undefined;
  const nameHeader = header(headers, 'mcp-name');
  if (nameHeader === undefined) return bodyValue === undefined ? undefined : refusal('name-header-missing', 'Mcp-Name', 'is required');
  const decoded = decodeSentinel(stripOws(nameHeader));
  if (decoded === undefined) return refusal('name-header-invalid-encoding', 'Mcp-Name', 'carries an invalid Base64 sentinel');
  if (bodyValue !== undefined && decoded !== bodyValue) return refusal('name-header-mismatch', 'Mcp-Name', `does not match params.${field}`);
  return undefined;
}

/** One `x-mcp-header` declaration of a tool's input schema. */
export interface ParamHeader {
  /** Property path from the arguments object (a chain of `properties` keys). */
  readonly path: readonly string[];
  /** `Mcp-Param-{name}` as declared. */
  readonly headerName: string;
  /** Node's lower-case header name. */
  readonly key: string;
  readonly type: string | undefined;
}

const TOKEN = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;

/**
 * The `x-mcp-header` declarations of a tool's input schema, found along chains of `properties`
 * (the only positions the spec allows). Declarations that are not RFC 9110 tokens are skipped:
 * the SDK refuses to list such a tool, so no conforming client can be expected to send them.
 */
export function paramHeaderDeclarations(inputSchema: unknown): readonly ParamHeader[] {
  const found: ParamHeader[] = [];
  const visit = (node: unknown, path: readonly string[], depth: number): void => {
    if (node === null || typeof node !== 'object' || depth > 32) return;
    const schema = node as Record<string, unknown>;
    const declared = schema['x-mcp-header'];
    if (path.length > 0 && typeof declared === 'string' && TOKEN.test(declared)) {
      found.push({ path, headerName: declared, key: `mcp-param-${declared.toLowerCase()}`, type: typeof schema['type'] === 'string' ? (schema['type'] as string) : undefined });
    }
    const properties = schema['properties'];
    if (properties !== null && typeof properties === 'object' && !Array.isArray(properties)) {
      for (const [key, child] of Object.entries(properties as Record<string, unknown>)) visit(child, [...path, key], depth + 1);
    }
  };
  visit(inputSchema, [], 0);
  return found;
}

function valueAt(root: unknown, path: readonly string[]): unknown {
  let node = root;
  for (const key of path) {
    if (node === null || typeof node !== 'object') return undefined;
    node = Object.hasOwn(node, key) ? (node as Record<string, unknown>)[key] : undefined;
  }
  return node;
}

/** A primitive argument as its header form (strings as is, numbers in decimal, booleans `true`/`false`). */
function primitiveString(value: unknown): string | undefined {
  if (typeof value === 'string') return value;
  if (typeof value === 'boolean') return value ? 'true' : 'false';
  if (typeof value === 'number' && Number.isFinite(value) && (!Number.isInteger(value) || Number.isSafeInteger(value))) return String(value);
  return undefined;
}

/**
 * The `Mcp-Param-*` rung: for each declaration whose argument holds a value (not null), the
 * header must be present and decode to an equal value (numbers compared numerically). A header
 * whose argument is absent or null is not expected, and is ignored.
 */
export function checkParamHeaders(declarations: readonly ParamHeader[], args: unknown, headers: RawHeaders): HeaderRefusal | undefined {
  for (const declaration of declarations) {
    const bodyValue = valueAt(args, declaration.path);
    if (bodyValue === undefined || bodyValue === null) continue;
    const bodyString = primitiveString(bodyValue);
    if (bodyString === undefined) continue;
    const name = `Mcp-Param-${declaration.headerName}`;
    const value = header(headers, declaration.key);
    if (value === undefined) return refusal('param-header-missing', name, 'is required');
    const decoded = decodeSentinel(value);
    if (decoded === undefined) return refusal('param-header-invalid-encoding', name, 'carries an invalid Base64 sentinel');
    const numeric = (declaration.type === 'integer' || declaration.type === 'number') && typeof bodyValue === 'number' && CANONICAL_DECIMAL.test(decoded);
    if (numeric ? Number(decoded) !== bodyValue : decoded !== bodyString) return refusal('param-header-mismatch', name, 'does not match the argument');
  }
  return undefined;
}

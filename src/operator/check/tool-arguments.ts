/**
 * @module operator/check/tool-arguments
 * Minimal arguments for a tool call, built from the tool's JSON Schema `inputSchema`: only
 * required properties, each the simplest value its schema allows (a `default`, `const`,
 * first `enum` value or example, else a short string, the minimum number, `false`, an empty
 * array or a nested minimal object). Schemas it cannot satisfy yield `undefined`, and the
 * tool is skipped rather than called with arguments it would reject.
 */

type Schema = Record<string, unknown>;

/** Nesting bound: tool schemas are shallow; a deep or recursive one is not worth guessing. */
const MAX_DEPTH = 8;
const SAMPLE_TEXT = 'mcp-warden-check';

function isSchema(value: unknown): value is Schema {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function typeOf(schema: Schema): string | undefined {
  const type = schema['type'];
  if (typeof type === 'string') return type;
  if (Array.isArray(type)) return type.find((item): item is string => typeof item === 'string' && item !== 'null') ?? (type.includes('null') ? 'null' : undefined);
  if (isSchema(schema['properties'])) return 'object';
  return undefined;
}

function sampleString(schema: Schema): string {
  const min = typeof schema['minLength'] === 'number' ? schema['minLength'] : 0;
  const max = typeof schema['maxLength'] === 'number' ? schema['maxLength'] : Number.POSITIVE_INFINITY;
  const text = SAMPLE_TEXT.padEnd(Math.min(min, 1000), 'x');
  return text.slice(0, Math.max(0, max));
}

function sampleNumber(schema: Schema, integer: boolean): number {
  const minimum = typeof schema['minimum'] === 'number' ? schema['minimum'] : undefined;
  const exclusive = typeof schema['exclusiveMinimum'] === 'number' ? schema['exclusiveMinimum'] : undefined;
  const maximum = typeof schema['maximum'] === 'number' ? schema['maximum'] : undefined;
  let value = minimum ?? (exclusive !== undefined ? exclusive + (integer ? 1 : 0.5) : 1);
  if (maximum !== undefined && value > maximum) value = maximum;
  return integer ? Math.ceil(value) : value;
}

/**
 * The simplest value `schema` accepts, or undefined when none can be built.
 *
 * @example
 * sampleValue({ type: 'object', properties: { a: { type: 'string' }, b: { type: 'number' } }, required: ['a'] });
 * // { a: 'mcp-warden-check' }
 */
export function sampleValue(schema: unknown, depth = 0): unknown {
  if (!isSchema(schema) || depth > MAX_DEPTH) return undefined;
  if ('const' in schema) return schema['const'];
  if ('default' in schema) return schema['default'];
  if (Array.isArray(schema['enum']) && schema['enum'].length > 0) return schema['enum'][0];
  if (Array.isArray(schema['examples']) && schema['examples'].length > 0) return schema['examples'][0];
  for (const key of ['anyOf', 'oneOf', 'allOf']) {
    const options = schema[key];
    if (Array.isArray(options) && options.length > 0) {
      // allOf: the first part is usually the base shape; anyOf/oneOf: any branch will do.
      const usable = options.find((option) => !(isSchema(option) && option['type'] === 'null')) ?? options[0];
      return sampleValue(usable, depth + 1);
    }
  }
  switch (typeOf(schema)) {
    case 'string':
      return sampleString(schema);
    case 'integer':
      return sampleNumber(schema, true);
    case 'number':
      return sampleNumber(schema, false);
    case 'boolean':
      return false;
    case 'null':
      return null;
    case 'array': {
      const minItems = typeof schema['minItems'] === 'number' ? schema['minItems'] : 0;
      if (minItems === 0) return [];
      const item = sampleValue(schema['items'], depth + 1);
      return item === undefined || minItems > 100 ? undefined : Array.from({ length: minItems }, () => item);
    }
    case 'object':
      return sampleObject(schema, depth);
    default:
      return undefined;
  }
}

function sampleObject(schema: Schema, depth: number): Record<string, unknown> | undefined {
  const properties = isSchema(schema['properties']) ? schema['properties'] : {};
  const required = Array.isArray(schema['required']) ? schema['required'].filter((name): name is string => typeof name === 'string') : [];
  const value: Record<string, unknown> = {};
  for (const name of required) {
    const sample = sampleValue(properties[name], depth + 1);
    if (sample === undefined) return undefined;
    // A schema may name a property `__proto__`; define it rather than assign through the prototype.
    Object.defineProperty(value, name, { value: sample, enumerable: true, writable: true, configurable: true });
  }
  return value;
}

/** Minimal arguments for a tool with this `inputSchema`, or undefined when they cannot be built. */
export function minimalArguments(inputSchema: unknown): Record<string, unknown> | undefined {
  if (!isSchema(inputSchema)) return {};
  return sampleObject(inputSchema, 0);
}

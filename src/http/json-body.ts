/**
 * @module http/json-body
 * The only body parser: `application/json`, read as text within the body limit, checked for
 * nesting depth before `JSON.parse` and for prototype-poisoning keys after it
 * (`__proto__`, `constructor.prototype`), which are refused rather than silently dropped.
 */

import sjson from 'secure-json-parse';
import { WardenError } from '../errors.js';

/** Deepest array/object nesting accepted; MCP messages need a handful of levels. */
export const MAX_JSON_DEPTH = 64;

const OPEN_BRACE = 0x7b;
const OPEN_BRACKET = 0x5b;
const CLOSE_BRACE = 0x7d;
const CLOSE_BRACKET = 0x5d;
const QUOTE = 0x22;
const BACKSLASH = 0x5c;

/** Maximum nesting depth of JSON text, ignoring brackets inside strings; stops early past `limit`. */
export function jsonDepth(text: string, limit = MAX_JSON_DEPTH): number {
  let depth = 0;
  let max = 0;
  let inString = false;
  for (let index = 0; index < text.length; index++) {
    const code = text.charCodeAt(index);
    if (inString) {
      if (code === BACKSLASH) index++;
      else if (code === QUOTE) inString = false;
    } else if (code === QUOTE) {
      inString = true;
    } else if (code === OPEN_BRACE || code === OPEN_BRACKET) {
      if (++depth > max) {
        max = depth;
        if (max > limit) return max;
      }
    } else if (code === CLOSE_BRACE || code === CLOSE_BRACKET) {
      depth--;
    }
  }
  return max;
}

/**
 * Parses a JSON request body.
 *
 * @throws WardenError `WARDEN_ERR_PARSE` for invalid JSON, `WARDEN_ERR_INVALID_REQUEST` for
 * nesting beyond {@link MAX_JSON_DEPTH} or prototype-poisoning keys.
 */
export function parseJsonBody(text: string): unknown {
  if (jsonDepth(text) > MAX_JSON_DEPTH) throw new WardenError('WARDEN_ERR_INVALID_REQUEST', { reason: 'json_too_deep' });
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (cause) {
    throw new WardenError('WARDEN_ERR_PARSE', { reason: 'invalid_json', cause });
  }
  // JSON.parse defines "__proto__" as an own property (no pollution yet); any later
  // Object.assign or merge would invoke the setter, so such bodies are refused outright.
  // `\u` escapes can spell the same keys ("\u005f_proto__"), so escaped text is scanned too.
  if (text.includes('__proto__') || text.includes('constructor') || text.includes('\\u')) {
    try {
      sjson.scan(value as Record<string, unknown>, { protoAction: 'error', constructorAction: 'error' });
    } catch (cause) {
      throw new WardenError('WARDEN_ERR_INVALID_REQUEST', { reason: 'prototype_key', cause });
    }
  }
  return value;
}

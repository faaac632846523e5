/**
 * @module mcp/tools/calculator/evaluate
 * A recursive-descent evaluator for arithmetic. No `eval`, `new Function` or `vm`: the
 * grammar below is the whole language.
 *
 *   expression := term (('+' | '-') term)*
 *   term       := unary (('*' | '/' | '%') unary)*
 *   unary      := ('-' | '+') unary | power
 *   power      := primary ('^' unary)?            right-associative; -2^2 = -4
 *   primary    := number | constant | name '(' args ')' | '(' expression ')'
 *
 * Limits: 1,000 characters; nesting (parentheses, calls, unary signs, powers) of 100.
 */

import { CalcError, tokenize, type Token } from './tokenizer.js';

export { CalcError } from './tokenizer.js';

export const MAX_EXPRESSION_LENGTH = 1000;
export const MAX_NESTING = 100;

// Maps, not object literals: a lookup of "constructor" or "__proto__" must find nothing.
const CONSTANTS: ReadonlyMap<string, number> = new Map([
  ['pi', Math.PI],
  ['e', Math.E],
]);

interface FunctionSpec {
  readonly min: number;
  readonly max: number;
  readonly apply: (args: number[]) => number;
}

const FUNCTIONS: ReadonlyMap<string, FunctionSpec> = new Map(
  Object.entries({
  sqrt: { min: 1, max: 1, apply: ([x]) => Math.sqrt(x as number) },
  abs: { min: 1, max: 1, apply: ([x]) => Math.abs(x as number) },
  round: { min: 1, max: 1, apply: ([x]) => Math.round(x as number) },
  floor: { min: 1, max: 1, apply: ([x]) => Math.floor(x as number) },
  ceil: { min: 1, max: 1, apply: ([x]) => Math.ceil(x as number) },
  ln: { min: 1, max: 1, apply: ([x]) => Math.log(x as number) },
  // log(x) is base 10; log(x, b) is base b.
  log: { min: 1, max: 2, apply: ([x, base]) => (base === undefined ? Math.log10(x as number) : Math.log(x as number) / Math.log(base)) },
  min: { min: 1, max: 100, apply: (args) => Math.min(...args) },
  max: { min: 1, max: 100, apply: (args) => Math.max(...args) },
  } satisfies Record<string, FunctionSpec>),
);

/** Names the calculator understands, for the tool description. */
export const CALCULATOR_FUNCTIONS = [...FUNCTIONS.keys()];
export const CALCULATOR_CONSTANTS = [...CONSTANTS.keys()];

class Parser {
  readonly #tokens: Token[];
  #index = 0;
  #depth = 0;

  constructor(tokens: Token[]) {
    this.#tokens = tokens;
  }

  parse(): number {
    const value = this.#expression();
    const token = this.#peek();
    if (token.type !== 'end') throw new CalcError(`unexpected ${describe(token)} at position ${token.at + 1}`);
    return value;
  }

  #peek(): Token {
    return this.#tokens[this.#index] as Token;
  }

  #next(): Token {
    return this.#tokens[this.#index++] as Token;
  }

  #enter(): void {
    if (++this.#depth > MAX_NESTING) throw new CalcError(`expression is nested more than ${MAX_NESTING} levels deep`);
  }

  #leave(): void {
    this.#depth--;
  }

  #expression(): number {
    let value = this.#term();
    for (let token = this.#peek(); token.type === 'op' && (token.value === '+' || token.value === '-'); token = this.#peek()) {
      this.#next();
      const right = this.#term();
      value = token.value === '+' ? value + right : value - right;
    }
    return value;
  }

  #term(): number {
    let value = this.#unary();
    for (let token = this.#peek(); token.type === 'op' && (token.value === '*' || token.value === '/' || token.value === '%'); token = this.#peek()) {
      this.#next();
      const right = this.#unary();
      value = token.value === '*' ? value * right : token.value === '/' ? value / right : value % right;
    }
    return value;
  }

  #unary(): number {
    const token = this.#peek();
    if (token.type === 'op' && (token.value === '-' || token.value === '+')) {
      this.#next();
      this.#enter();
      const operand = this.#unary();
      this.#leave();
      return token.value === '-' ? -operand : operand;
    }
    return this.#power();
  }

  #power(): number {
    const base = this.#primary();
    const token = this.#peek();
    if (token.type === 'op' && token.value === '^') {
      this.#next();
      this.#enter();
      const exponent = this.#unary();
      this.#leave();
      return base ** exponent;
    }
    return base;
  }

  #primary(): number {
    const token = this.#next();
    switch (token.type) {
      case 'number':
        return token.value;
      case 'lparen': {
        this.#enter();
        const value = this.#expression();
        this.#expect('rparen', ')');
        this.#leave();
        return value;
      }
      case 'name':
        return this.#name(token.value, token.at);
      default:
        throw new CalcError(token.type === 'end' ? 'unexpected end of expression' : `unexpected ${describe(token)} at position ${token.at + 1}`);
    }
  }

  #name(name: string, at: number): number {
    const fn = FUNCTIONS.get(name);
    if (fn === undefined) {
      const constant = CONSTANTS.get(name);
      // The identifier itself is not echoed: a tool error must not reflect client input.
      if (constant === undefined) throw new CalcError(`unknown identifier at position ${at + 1}`);
      return constant;
    }
    this.#expect('lparen', '(');
    this.#enter();
    const args: number[] = [];
    if (this.#peek().type !== 'rparen') {
      args.push(this.#expression());
      while (this.#peek().type === 'comma') {
        this.#next();
        args.push(this.#expression());
      }
    }
    this.#expect('rparen', ')');
    this.#leave();
    if (args.length < fn.min || args.length > fn.max) {
      throw new CalcError(fn.min === fn.max ? `${name} takes ${fn.min} argument` : `${name} takes ${fn.min} to ${fn.max} arguments`);
    }
    return fn.apply(args);
  }

  #expect(type: 'lparen' | 'rparen', text: string): void {
    const token = this.#next();
    if (token.type !== type) {
      throw new CalcError(token.type === 'end' ? `expected "${text}" before the end` : `expected "${text}" at position ${token.at + 1}`);
    }
  }
}

function describe(token: Token): string {
  switch (token.type) {
    case 'number':
      return 'number';
    case 'name':
      return 'name';
    case 'op':
      return `"${token.value}"`;
    case 'lparen':
      return '"("';
    case 'rparen':
      return '")"';
    case 'comma':
      return '","';
    default:
      return 'end';
  }
}

/**
 * Evaluates an arithmetic expression.
 *
 * @example
 * evaluate('2 * (3 + 4) ^ 2'); // 98
 * @throws CalcError for input too long or too deep, syntax errors, unknown identifiers and
 * non-finite results.
 */
export function evaluate(expression: string): number {
  if (expression.length > MAX_EXPRESSION_LENGTH) throw new CalcError(`expression is longer than ${MAX_EXPRESSION_LENGTH} characters`);
  if (expression.trim() === '') throw new CalcError('expression is empty');
  const value = new Parser(tokenize(expression)).parse();
  if (!Number.isFinite(value)) throw new CalcError('result is not a finite number');
  return value;
}

/** A result for display: 15 significant digits, so 0.1 + 0.2 shows as 0.3. */
export function formatResult(value: number): string {
  const rounded = Number(value.toPrecision(15));
  return String(Object.is(rounded, -0) ? 0 : rounded);
}

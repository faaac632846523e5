/**
 * @module mcp/tools/calculator/tokenizer
 * Splits an arithmetic expression into tokens. Only digits, operators, parentheses, commas,
 * letters and whitespace are accepted; anything else is a syntax error at its position.
 */

export type Token =
  | { readonly type: 'number'; readonly value: number; readonly at: number }
  | { readonly type: 'name'; readonly value: string; readonly at: number }
  | { readonly type: 'op'; readonly value: '+' | '-' | '*' | '/' | '%' | '^'; readonly at: number }
  | { readonly type: 'lparen' | 'rparen' | 'comma' | 'end'; readonly at: number };

/** A failure the calculator reports to the caller as a tool error. */
export class CalcError extends Error {
  override readonly name = 'CalcError';
}

const OPERATORS = new Set(['+', '-', '*', '/', '%', '^']);

function isDigit(char: string | undefined): boolean {
  return char !== undefined && char >= '0' && char <= '9';
}

function isLetter(char: string | undefined): boolean {
  return char !== undefined && ((char >= 'a' && char <= 'z') || (char >= 'A' && char <= 'Z') || char === '_');
}

/** Tokenizes `source`; throws CalcError on an unexpected character. */
export function tokenize(source: string): Token[] {
  const tokens: Token[] = [];
  let index = 0;
  while (index < source.length) {
    const char = source[index] as string;
    if (char === ' ' || char === '\t' || char === '\n' || char === '\r') {
      index++;
    } else if (isDigit(char) || (char === '.' && isDigit(source[index + 1]))) {
      const start = index;
      while (isDigit(source[index])) index++;
      if (source[index] === '.') {
        index++;
        while (isDigit(source[index])) index++;
      }
      // Scientific notation only when digits follow, so "2e" stays "2" then the constant e.
      if ((source[index] === 'e' || source[index] === 'E') && (isDigit(source[index + 1]) || ((source[index + 1] === '+' || source[index + 1] === '-') && isDigit(source[index + 2])))) {
        index += 2;
        while (isDigit(source[index])) index++;
      }
      tokens.push({ type: 'number', value: Number(source.slice(start, index)), at: start });
    } else if (isLetter(char)) {
      const start = index;
      while (isLetter(source[index]) || isDigit(source[index])) index++;
      tokens.push({ type: 'name', value: source.slice(start, index).toLowerCase(), at: start });
    } else if (OPERATORS.has(char)) {
      tokens.push({ type: 'op', value: char as '+', at: index });
      index++;
    } else if (char === '(') {
      tokens.push({ type: 'lparen', at: index++ });
    } else if (char === ')') {
      tokens.push({ type: 'rparen', at: index++ });
    } else if (char === ',') {
      tokens.push({ type: 'comma', at: index++ });
    } else {
      throw new CalcError(`unexpected character at position ${index + 1}`);
    }
  }
  tokens.push({ type: 'end', at: source.length });
  return tokens;
}

/**
 * The calculator's language: precedence, associativity, functions, constants, limits and
 * every class of bad input, each a CalcError with a short message.
 */

import { describe, expect, it } from 'vitest';
import { CalcError, evaluate, formatResult } from '../../src/mcp/tools/calculator/evaluate.js';

describe('calculator', () => {
  it.each([
    ['1 + 2 * 3', 7],
    ['(1 + 2) * 3', 9],
    ['10 - 4 - 3', 3],
    ['100 / 10 / 5', 2],
    ['2 ^ 3 ^ 2', 512],
    ['-2 ^ 2', -4],
    ['(-2) ^ 2', 4],
    ['2 ^ -1', 0.5],
    ['--3', 3],
    ['+4', 4],
    ['7 % 4', 3],
    ['-7 % 4', -3],
    ['.5 + 1.25', 1.75],
    ['1e3 + 2E-1', 1000.2],
    ['sqrt(16)', 4],
    ['abs(-3.5)', 3.5],
    ['round(2.5)', 3],
    ['floor(-1.5)', -2],
    ['ceil(1.2)', 2],
    ['ln(e)', 1],
    ['log(1000)', 3],
    ['log(8, 2)', 3],
    ['min(3, 1, 2)', 1],
    ['max(3, 1, 2)', 3],
    ['2 * pi', 2 * Math.PI],
    ['PI', Math.PI],
    ['SQRT(4)', 2],
    [' 1\t+\n2 ', 3],
  ])('%s = %d', (expression, expected) => {
    expect(evaluate(expression)).toBeCloseTo(expected, 12);
  });

  it('formats results to 15 significant digits', () => {
    expect(formatResult(evaluate('0.1 + 0.2'))).toBe('0.3');
    expect(formatResult(evaluate('1/3'))).toBe('0.333333333333333');
    expect(formatResult(-0)).toBe('0');
  });

  it.each([
    ['', /empty/],
    ['   ', /empty/],
    ['1 +', /unexpected end/],
    ['(1 + 2', /expected "\)"/],
    ['1 + 2)', /unexpected "\)"/],
    ['2 3', /unexpected number/],
    ['* 2', /unexpected "\*"/],
    ['sqrt 4', /expected "\("/],
    ['sqrt()', /sqrt takes 1 argument/],
    ['sqrt(1, 2)', /sqrt takes 1 argument/],
    ['log(1, 2, 3)', /log takes 1 to 2 arguments/],
    ['min()', /min takes 1 to 100 arguments/],
    ['x + 1', /unknown identifier at position 1/],
    ['constructor', /unknown identifier/],
    ['__proto__', /unknown identifier/],
    ['process.exit(1)', /unexpected character at position 8/],
    ['toString(1)', /unknown identifier/],
    ['valueOf', /unknown identifier/],
    ['1 + "2"', /unexpected character at position 5/],
    ['2 & 3', /unexpected character/],
    ['1/0', /not a finite number/],
    ['0/0', /not a finite number/],
    ['sqrt(-1)', /not a finite number/],
    ['ln(0)', /not a finite number/],
    ['10 ^ 400', /not a finite number/],
    ['1 % 0', /not a finite number/],
  ])('%j is rejected', (expression, message) => {
    expect(() => evaluate(expression)).toThrow(CalcError);
    expect(() => evaluate(expression)).toThrow(message);
  });

  it('limits input to 1,000 characters', () => {
    expect(evaluate('1+'.repeat(499) + '1')).toBe(500);
    expect(() => evaluate('1+'.repeat(500) + '1')).toThrow(/longer than 1000/);
  });

  it('limits nesting to 100 levels (parentheses, calls, signs, powers)', () => {
    expect(evaluate('('.repeat(100) + '1' + ')'.repeat(100))).toBe(1);
    expect(() => evaluate('('.repeat(101) + '1' + ')'.repeat(101))).toThrow(/nested more than 100/);
    expect(() => evaluate('-'.repeat(101) + '1')).toThrow(/nested more than 100/);
    expect(() => evaluate('abs('.repeat(101) + '1' + ')'.repeat(101))).toThrow(/nested more than 100/);
    expect(() => evaluate('2^'.repeat(101) + '1')).toThrow(/nested more than 100/);
  });

  it('never echoes identifiers back', () => {
    try {
      evaluate('secret_value + 1');
    } catch (error) {
      expect((error as Error).message).not.toContain('secret');
    }
    expect.assertions(1);
  });
});

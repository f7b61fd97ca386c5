import { ConditionError, evaluateCondition, parseCondition } from './analysis-condition.js';

const judge = (text: string, errorRate: number, p95Ms: number): boolean => evaluateCondition(parseCondition(text), { errorRate, p95Ms });

describe('an analysis success condition', () => {
  it('compares the measured values with numbers, either way round', () => {
    expect(judge('errorRate < 0.01 && p95Ms < 500', 0.002, 180)).toBe(true);
    expect(judge('errorRate < 0.01 && p95Ms < 500', 0.2, 180)).toBe(false);
    expect(judge('errorRate < 0.01 && p95Ms < 500', 0.002, 1500)).toBe(false);
    expect(judge('0.01 > errorRate', 0.009, 0)).toBe(true);
    expect(judge('p95Ms <= 500', 0, 500)).toBe(true);
    expect(judge('p95Ms < 500', 0, 500)).toBe(false);
    expect(judge('p95Ms >= 500', 0, 500)).toBe(true);
    expect(judge('p95Ms > 500', 0, 500)).toBe(false);
    expect(judge('errorRate < 1e-2', 0.005, 0)).toBe(true);
  });

  it('binds && tighter than ||, and honours parentheses', () => {
    // a || (b && c): true by a alone
    expect(judge('errorRate < 0.01 || p95Ms < 500 && p95Ms > 1000', 0, 700)).toBe(true);
    // (a || b) && c: false by c
    expect(judge('(errorRate < 0.01 || p95Ms < 500) && p95Ms > 1000', 0, 700)).toBe(false);
    expect(judge('((errorRate<0.05))&&(p95Ms<900)', 0.04, 800)).toBe(true);
  });

  it('never passes NaN (a measurement without a value)', () => {
    expect(judge('errorRate < 0.01', Number.NaN, 0)).toBe(false);
    expect(judge('errorRate >= 0', Number.NaN, 0)).toBe(false);
  });

  it.each([
    ['', 'is empty'],
    ['   ', 'is empty'],
    ['errorRate <', 'ends where'],
    ['errorRate < 0.01 &&', 'ends where'],
    ['errorRate 0.01', 'expected a comparison'],
    ['errorRate == 0', 'unexpected "== 0" at character 10'],
    ['cpu < 2', 'unknown name "cpu"'],
    ['constructor < 1', 'unknown name "constructor"'],
    ['errorRate < 0.01)', 'unexpected ")"'],
    ['(errorRate < 0.01', 'ends where'],
    ['errorRate < 0.01 p95Ms < 2', 'unexpected "p95Ms"'],
    ['errorRate < -1', 'unexpected "-1"'],
    ['process.exit(1) < 1', 'unexpected ".exit(1) <"'],
    ['errorRate < 0.01 ; p95Ms < 1', 'unexpected ";'],
    [`errorRate < 1${' || errorRate < 1'.repeat(20)}`, 'at most 200 characters'],
  ])('refuses %j (%s)', (text, message) => {
    expect(() => parseCondition(text)).toThrow(ConditionError);
    expect(() => parseCondition(text)).toThrow(message);
  });
});

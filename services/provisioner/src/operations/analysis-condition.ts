/**
 * A canary analysis's `successCondition`: `errorRate < 0.01 && p95Ms < 500`.
 *
 * The language is tiny on purpose — the two measured values, numbers, `<`, `<=`, `>`, `>=`,
 * `&&`, `||` and parentheses — and it is parsed here into a tree that is only ever walked,
 * never evaluated as JavaScript. No library: the expression libraries that fit
 * (`expr-eval`, `filtrex`) accept far more (arithmetic, function calls, member access,
 * strings), so each would still need its tree walked to refuse what is not allowed, and
 * `expr-eval`, unreleased since 2019, has a prototype-pollution advisory reaching code
 * execution (GHSA-8gw3-rxh4-v6jx) — for a condition any team member writes into a store's
 * spec and the provisioner runs, ninety lines of our own are the smaller risk.
 */

export const ANALYSIS_VARIABLES = ['errorRate', 'p95Ms'] as const;
type Variable = (typeof ANALYSIS_VARIABLES)[number];
export type AnalysisValues = Record<Variable, number>;

type Comparison = '<' | '<=' | '>' | '>=';
export type Condition =
  | { kind: 'and' | 'or'; left: Condition; right: Condition }
  | { kind: 'compare'; op: Comparison; left: Operand; right: Operand };
type Operand = { variable: Variable } | { number: number };

export class ConditionError extends Error {
  override readonly name = 'ConditionError';
}

const TOKEN = /\s*(?:(\d+(?:\.\d+)?(?:e[+-]?\d+)?)|([A-Za-z_][A-Za-z0-9_]*)|(<=|>=|&&|\|\||<|>|\(|\)))/y;
const MAX_LENGTH = 200;

function tokenize(text: string): string[] {
  const tokens: string[] = [];
  TOKEN.lastIndex = 0;
  while (TOKEN.lastIndex < text.length) {
    if (/^\s*$/.test(text.slice(TOKEN.lastIndex))) break;
    const at = TOKEN.lastIndex;
    const match = TOKEN.exec(text);
    if (!match) throw new ConditionError(`unexpected "${text.slice(at).trimStart().slice(0, 10)}" at character ${at + 1}`);
    tokens.push(match[1] ?? match[2] ?? match[3]!);
  }
  return tokens;
}

/** Parses `text`; throws {@link ConditionError} saying what is wrong. */
export function parseCondition(text: string): Condition {
  if (text.length > MAX_LENGTH) throw new ConditionError(`at most ${MAX_LENGTH} characters`);
  const tokens = tokenize(text);
  if (tokens.length === 0) throw new ConditionError('is empty');
  let i = 0;
  const peek = (): string | undefined => tokens[i];
  const expect = (what: string): string => {
    const token = tokens[i++];
    if (token === undefined) throw new ConditionError(`ends where ${what} was expected`);
    return token;
  };
  // or := and ('||' and)* ; and := primary ('&&' primary)* ; primary := '(' or ')' | operand cmp operand
  const or = (): Condition => {
    let left = and();
    while (peek() === '||') {
      i++;
      left = { kind: 'or', left, right: and() };
    }
    return left;
  };
  const and = (): Condition => {
    let left = primary();
    while (peek() === '&&') {
      i++;
      left = { kind: 'and', left, right: primary() };
    }
    return left;
  };
  const primary = (): Condition => {
    if (peek() === '(') {
      i++;
      const inner = or();
      if (expect('")"') !== ')') throw new ConditionError(`expected ")" at token ${i}`);
      return inner;
    }
    const left = operand();
    const op = expect('a comparison (<, <=, >, >=)');
    if (!['<', '<=', '>', '>='].includes(op)) throw new ConditionError(`expected a comparison (<, <=, >, >=), found "${op}"`);
    return { kind: 'compare', op: op as Comparison, left, right: operand() };
  };
  const operand = (): Operand => {
    const token = expect(`${ANALYSIS_VARIABLES.join(', ')} or a number`);
    if (/^\d/.test(token)) return { number: Number(token) };
    if ((ANALYSIS_VARIABLES as readonly string[]).includes(token)) return { variable: token as Variable };
    throw new ConditionError(`unknown name "${token}": only ${ANALYSIS_VARIABLES.join(' and ')} (and numbers) can be compared`);
  };
  const tree = or();
  if (i < tokens.length) throw new ConditionError(`unexpected "${tokens[i]}" after a complete condition`);
  return tree;
}

const value = (operand: Operand, values: AnalysisValues): number => ('number' in operand ? operand.number : values[operand.variable]);

/** Whether `values` satisfy `condition`. */
export function evaluateCondition(condition: Condition, values: AnalysisValues): boolean {
  switch (condition.kind) {
    case 'and':
      return evaluateCondition(condition.left, values) && evaluateCondition(condition.right, values);
    case 'or':
      return evaluateCondition(condition.left, values) || evaluateCondition(condition.right, values);
    case 'compare': {
      const [a, b] = [value(condition.left, values), value(condition.right, values)];
      if (condition.op === '<') return a < b;
      if (condition.op === '<=') return a <= b;
      if (condition.op === '>') return a > b;
      return a >= b;
    }
  }
}

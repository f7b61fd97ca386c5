import { describe, expect, it } from '@jest/globals';
import { arrayElements, jsonSyntaxError, topLevelMembers } from './json-scan.js';

const parses = (text: string): boolean => {
  try {
    JSON.parse(text);
    return true;
  } catch {
    return false;
  }
};

const SAMPLES = [
  '{}', '[]', '""', '0', '-0.5e+3', 'true', 'null', ' {"a": [1, 2, {"b": "c\\"d\\u00e9\\n"}]} ', '[[[[[]]]]]', '{"a":1,"a":2}',
  '', ' ', '{', '[', '{"a"}', '{"a":}', '{a:1}', '[1,]', '[1 2]', '{"a":1,}', '01', '1.', '.5', '-', 'tru', 'nul', '"\\x"', '"\\u12"',
  '"a\nb"', '"open', '{} {}', '[}', '{]', '{"a":1]', '[1]]', '"\\ud800"', '1e', '+1', '[-]', '{"a" "b"}', '\u00a0{}',
];

describe('json-scan', () => {
  it.each(SAMPLES)('agrees with JSON.parse on %j', (text) => {
    expect(jsonSyntaxError(text) === undefined).toBe(parses(text));
  });

  it('agrees with JSON.parse on random mutations of a document', () => {
    const base = JSON.stringify({ national: [{ team: 'A', players: [1, 2.5, -3e2, null, true, false, 'x\\"y'] }], club: [], custom: [{}] });
    let seed = 7;
    const random = (n: number): number => (seed = (seed * 1103515245 + 12345) % 2 ** 31) % n;
    const alphabet = '{}[]",:0-.eE \\tfnrux1';
    for (let round = 0; round < 3000; round++) {
      const at = random(base.length);
      const text = base.slice(0, at) + (random(2) ? alphabet[random(alphabet.length)] : '') + base.slice(at + random(3));
      expect([text, jsonSyntaxError(text) === undefined]).toEqual([text, parses(text)]);
    }
  });

  it('checks nesting far deeper than a recursive parser could', () => {
    expect(jsonSyntaxError('['.repeat(1_000_000) + ']'.repeat(1_000_000))).toBeUndefined();
    expect(jsonSyntaxError('['.repeat(1_000_000))).toMatch(/Unexpected end/);
  });

  it('finds the top-level members (the last of a repeated name) and each array element', () => {
    const text = ' { "a" : [ 1 , {"x":[2]} , "s]" ] , "b":{"c":[]}, "a" : [3,4] } ';
    const members = topLevelMembers(text)!;
    expect([...members.keys()]).toEqual(['a', 'b']);
    expect([...arrayElements(text, members.get('a')!)].map(([s, e]) => text.slice(s, e))).toEqual(['3', '4']);
    const first = ' {"a": [ 1 , {"x":[2]} , "s]" ]} ';
    expect([...arrayElements(first, topLevelMembers(first)!.get('a')!)].map(([s, e]) => first.slice(s, e))).toEqual(['1', '{"x":[2]}', '"s]"']);
    expect(topLevelMembers('[1]')).toBeUndefined();
  });
});

import { describe, expect, it } from '@jest/globals';
import { contentDisposition } from './content-disposition.js';

describe('contentDisposition', () => {
  it('keeps a plain name as it is', () => {
    expect(contentDisposition('scan-01.png')).toBe(`attachment; filename="scan-01.png"; filename*=UTF-8''scan-01.png`);
  });

  it('gives non-ASCII names an ASCII fallback and the exact UTF-8 name', () => {
    expect(contentDisposition('rapport é.json')).toBe(`attachment; filename="rapport _.json"; filename*=UTF-8''rapport%20%C3%A9.json`);
  });

  it('cannot be broken out of: quotes, backslashes, semicolons and line breaks stay inside the values', () => {
    const value = contentDisposition('a"; filename="evil.exe\\\r\n.txt');
    expect(value).toBe(`attachment; filename="a_; filename=_evil.exe___.txt"; filename*=UTF-8''a%22%3B%20filename%3D%22evil.exe%5C%0D%0A.txt`);
    expect(value).not.toMatch(/[\r\n]/);
  });

  it("percent-encodes the characters RFC 8187 does not allow bare, the ' delimiter among them", () => {
    expect(contentDisposition("it's (final)*!.csv")).toBe(`attachment; filename="it's (final)*!.csv"; filename*=UTF-8''it%27s%20%28final%29%2A%21.csv`);
  });
});

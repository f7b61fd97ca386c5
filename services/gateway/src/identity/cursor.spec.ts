import { describe, expect, it } from '@jest/globals';
import { BadRequestException } from '@nestjs/common';
import { decodeCursor, encodeCursor } from './cursor.js';

describe('cursor', () => {
  it('round-trips a position', () => {
    const row = { createdAt: new Date('2026-01-02T03:04:05.678Z'), id: '7d1f8a52-3f4e-4a59-8f0e-1c2b3a4d5e6f' };
    expect(decodeCursor(encodeCursor(row))).toEqual(row);
  });

  it('rejects a forged cursor with 400', () => {
    expect(() => decodeCursor(Buffer.from("x|'; DROP TABLE users").toString('base64url'))).toThrow(BadRequestException);
  });
});

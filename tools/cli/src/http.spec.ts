import { describe, expect, it } from '@jest/globals';
import { apiBase, retryAfterMs } from './http.js';

describe('apiBase', () => {
  it('adds /api/v1 to the origin once', () => {
    expect(apiBase('http://localhost:8080')).toBe('http://localhost:8080/api/v1');
    expect(apiBase('http://localhost:8080/')).toBe('http://localhost:8080/api/v1');
    expect(apiBase('https://example.com/flotilla/')).toBe('https://example.com/flotilla/api/v1');
    expect(apiBase('https://example.com/api/v1/')).toBe('https://example.com/api/v1');
  });
});

describe('retryAfterMs', () => {
  it('reads seconds and HTTP dates', () => {
    expect(retryAfterMs('0')).toBe(0);
    expect(retryAfterMs('2')).toBe(2000);
    const now = Date.parse('2026-01-01T00:00:00Z');
    expect(retryAfterMs('Thu, 01 Jan 2026 00:00:05 GMT', now)).toBe(5000);
    expect(retryAfterMs('Wed, 31 Dec 2025 00:00:00 GMT', now)).toBe(0);
    expect(retryAfterMs(null)).toBeUndefined();
    expect(retryAfterMs('soon')).toBeUndefined();
  });
});

import { describe, expect, it } from '@jest/globals';
import { ApiError, NetworkError } from './errors.js';
import { withApiRetries } from './retry.js';

describe('withApiRetries', () => {
  it('tries again after network errors and 5xx, then answers', async () => {
    const failures: unknown[] = [new NetworkError('http://api', 'ECONNREFUSED'), new ApiError('POST', '/api/v1/upload/complete', 503, undefined)];
    let calls = 0;
    const heard: number[] = [];
    const result = await withApiRetries(
      'complete',
      async () => {
        calls++;
        if (failures.length > 0) throw failures.shift();
        return 'done';
      },
      { delayMs: 1, onRetry: (_what, attempt) => heard.push(attempt) },
    );
    expect({ result, calls, heard }).toEqual({ result: 'done', calls: 3, heard: [1, 2] });
  });

  it('does not repeat a 4xx answer, and gives up after its retries', async () => {
    let calls = 0;
    const refused = new ApiError('POST', '/api/v1/auth/login', 401, undefined);
    await expect(withApiRetries('login', async () => { calls++; throw refused; }, { delayMs: 1 })).rejects.toBe(refused);
    expect(calls).toBe(1);
    calls = 0;
    await expect(withApiRetries('start', async () => { calls++; throw new ApiError('POST', '/x', 502, undefined); }, { delayMs: 1, retries: 2 })).rejects.toMatchObject({ status: 502 });
    expect(calls).toBe(3);
  });
});

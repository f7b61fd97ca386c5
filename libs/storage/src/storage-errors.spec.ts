import { describe, expect, it } from '@jest/globals';
import { S3ServiceException } from '@aws-sdk/client-s3';
import { isNotFound, isStorageUnavailable, StorageUnavailableError, toStorageError } from './storage-errors.js';

const s3Error = (name: string, status: number): S3ServiceException =>
  new S3ServiceException({ name, $fault: status >= 500 ? 'server' : 'client', $metadata: { httpStatusCode: status } });
const sysError = (code: string): Error => Object.assign(new Error(`connect ${code} 127.0.0.1:9000`), { code });

describe('isStorageUnavailable', () => {
  it.each([
    ['connection refused', sysError('ECONNREFUSED')],
    ['connection reset', sysError('ECONNRESET')],
    ['a name that does not resolve', sysError('ENOTFOUND')],
    ['a timeout', Object.assign(new Error('socket timed out'), { name: 'TimeoutError' })],
    ['503 SlowDown', s3Error('SlowDown', 503)],
    ['500 InternalError', s3Error('InternalError', 500)],
    ['a retried connection failure the SDK re-wrapped, keeping only the text', new Error('AWS SDK error wrapper for Error: connect ECONNREFUSED 127.0.0.1:9000')],
    ['every address of a name refusing', Object.assign(new AggregateError([sysError('ECONNREFUSED'), sysError('ECONNREFUSED')]), {})],
  ])('is true for %s', (_, error) => {
    expect(isStorageUnavailable(error)).toBe(true);
  });

  it.each([
    ['403 AccessDenied', s3Error('AccessDenied', 403)],
    ['404 NoSuchUpload', s3Error('NoSuchUpload', 404)],
    ['400 InvalidPart', s3Error('InvalidPart', 400)],
    ['the caller aborting', Object.assign(new Error('aborted'), { name: 'AbortError', code: 'ECONNRESET' })],
    ['a plain error', new Error('boom')],
    ['not an error', 'ECONNREFUSED'],
  ])('is false for %s', (_, error) => {
    expect(isStorageUnavailable(error)).toBe(false);
  });
});

describe('toStorageError', () => {
  it('wraps unavailability, saying what was attempted and keeping the cause', () => {
    const cause = sysError('ECONNREFUSED');
    const wrapped = toStorageError(cause, 'head a/b') as StorageUnavailableError;
    expect(wrapped).toBeInstanceOf(StorageUnavailableError);
    expect(wrapped.name).toBe('StorageUnavailableError');
    expect(wrapped.message).toBe('object storage is not reachable (head a/b): connect ECONNREFUSED 127.0.0.1:9000');
    expect(wrapped.cause).toBe(cause);
  });

  it('passes other errors through unchanged', () => {
    const denied = s3Error('AccessDenied', 403);
    expect(toStorageError(denied, 'head a/b')).toBe(denied);
  });
});

describe('isNotFound', () => {
  it('recognises HEAD 404 (no body, so only the status) and the named answers', () => {
    expect(isNotFound(s3Error('NotFound', 404))).toBe(true);
    expect(isNotFound(s3Error('NoSuchKey', 404))).toBe(true);
    expect(isNotFound(s3Error('AccessDenied', 403))).toBe(false);
  });
});

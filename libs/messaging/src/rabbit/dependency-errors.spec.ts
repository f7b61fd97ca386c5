import { describe, expect, it } from '@jest/globals';
import { isDependencyUnavailable } from './dependency-errors.js';

const withProps = (message: string, props: Record<string, unknown>): Error => Object.assign(new Error(message), props);

describe('isDependencyUnavailable', () => {
  it('knows Postgres being unreachable, directly or wrapped by TypeORM', () => {
    expect(isDependencyUnavailable(withProps('connect ECONNREFUSED 127.0.0.1:5432', { code: 'ECONNREFUSED' }))).toBe(true);
    expect(isDependencyUnavailable(new Error('Connection terminated unexpectedly'))).toBe(true);
    expect(isDependencyUnavailable(withProps('the database system is shutting down', { code: '57P03' }))).toBe(true);
    expect(isDependencyUnavailable(withProps('sorry, too many clients already', { code: '53300' }))).toBe(true);
    expect(isDependencyUnavailable(withProps('query failed', { driverError: withProps('terminating connection due to administrator command', { code: '57P01' }) }))).toBe(true);
    expect(isDependencyUnavailable(new AggregateError([withProps('connect ECONNREFUSED ::1:5432', { code: 'ECONNREFUSED' })], 'all addresses failed'))).toBe(true);
    // node-postgres' own limit (query_timeout) on a server that hangs, as TypeORM wraps it.
    expect(isDependencyUnavailable(withProps('Query read timeout', { driverError: new Error('Query read timeout') }))).toBe(true);
  });

  it('knows S3 (AWS SDK v3) being unreachable, overloaded or failing, and the storage wrapper', () => {
    expect(isDependencyUnavailable(withProps('Service Unavailable', { name: 'ServiceUnavailable', $metadata: { httpStatusCode: 503 } }))).toBe(true);
    expect(isDependencyUnavailable(withProps('Please reduce your request rate.', { name: 'SlowDown', $metadata: { httpStatusCode: 503 } }))).toBe(true);
    expect(isDependencyUnavailable(withProps('Bad Gateway', { name: 'Unknown', $metadata: { httpStatusCode: 502 } }))).toBe(true);
    expect(isDependencyUnavailable(withProps('Connection timed out after 1000 ms', { name: 'TimeoutError' }))).toBe(true);
    expect(isDependencyUnavailable(new Error('connect ECONNREFUSED 127.0.0.1:9000'))).toBe(true);
    expect(isDependencyUnavailable(withProps('object storage is not reachable (get): socket hang up', { name: 'StorageUnavailableError' }))).toBe(true);
    expect(isDependencyUnavailable(withProps('wrapped', { cause: withProps('Internal Error', { name: 'InternalError', $metadata: { httpStatusCode: 500 } }) }))).toBe(true);
  });

  it('knows Redis being unreachable', () => {
    expect(isDependencyUnavailable(new Error('Connection is closed.'))).toBe(true);
    expect(isDependencyUnavailable(new Error("Stream isn't writeable and enableOfflineQueue options is false"))).toBe(true);
  });

  it('does not take a fault of the work for an outage', () => {
    expect(isDependencyUnavailable(withProps('duplicate key value violates unique constraint', { code: '23505' }))).toBe(false);
    expect(isDependencyUnavailable(withProps('invalid input syntax for type uuid', { code: '22P02' }))).toBe(false);
    expect(isDependencyUnavailable(withProps('Access Denied', { name: 'AccessDenied', $metadata: { httpStatusCode: 403 } }))).toBe(false);
    expect(isDependencyUnavailable(withProps('The specified key does not exist.', { name: 'NoSuchKey', $metadata: { httpStatusCode: 404 } }))).toBe(false);
    expect(isDependencyUnavailable(withProps('This operation was aborted', { name: 'AbortError', code: 'ECONNRESET' }))).toBe(false);
    expect(isDependencyUnavailable(new Error('boom'))).toBe(false);
    expect(isDependencyUnavailable(undefined)).toBe(false);
    expect(isDependencyUnavailable('ECONNREFUSED')).toBe(false);
  });
});

import { describe, expect, it } from '@jest/globals';
import { Contract } from './contract.js';

/** The check every e2e answer goes through (setup.ts), on answers made up to break it. */
describe('the e2e contract check', () => {
  const contract = new Contract();
  const me = { id: '0b7f6c1e-1d2a-4c3b-9e8f-7a6b5c4d3e2f', email: 'alice@example.com', role: 'member', team: null };
  const problem = (status: number) => JSON.stringify({ type: 'about:blank', title: 'x', status, detail: 'x', instance: '/api/v1/auth/me' });

  it('passes an answer its operation documents', () => {
    expect(contract.check({ method: 'GET', path: '/api/v1/auth/me', status: 200, contentType: 'application/json; charset=utf-8', body: JSON.stringify(me) })).toBeUndefined();
    expect(contract.check({ method: 'GET', path: '/api/v1/auth/me', status: 401, contentType: 'application/problem+json', body: problem(401) })).toBeUndefined();
    expect(contract.check({ method: 'GET', path: '/api/v1/nowhere', status: 404, contentType: 'application/problem+json', body: problem(404) })).toBeUndefined();
  });

  it('refuses an undocumented status, a body off its schema, another media type and a missing required header', () => {
    expect(contract.check({ method: 'GET', path: '/api/v1/auth/me', status: 409, contentType: 'application/problem+json', body: problem(409) })).toMatch(/getMe documents .*not 409/);
    expect(contract.check({ method: 'GET', path: '/api/v1/auth/me', status: 200, contentType: 'application/json', body: JSON.stringify({ ...me, role: 'owner' }) })).toMatch(/role must be equal to one of the allowed values/);
    expect(contract.check({ method: 'GET', path: '/api/v1/auth/me', status: 200, contentType: 'application/json', body: JSON.stringify({ ...me, id: 'not-a-uuid' }) })).toMatch(/id must match format "uuid"/);
    expect(contract.check({ method: 'GET', path: '/api/v1/auth/me', status: 401, contentType: 'application/json', body: problem(401) })).toMatch(/answered application\/json, documented application\/problem\+json/);
    expect(contract.check({ method: 'GET', path: '/api/v1/auth/me', status: 429, contentType: 'application/problem+json', body: problem(429), headers: ['retry-after'] })).toMatch(/required header\(s\) RateLimit/);
    expect(contract.check({ method: 'DELETE', path: '/api/v1/auth/me', status: 200, contentType: 'application/json', body: '{}' })).toMatch(/no operation documents DELETE/);
  });
});

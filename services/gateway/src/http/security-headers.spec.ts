import { describe, expect, it } from '@jest/globals';
import { API_CSP_DIRECTIVES, isDocsUrl, precomputeSecurityHeaders } from './security-headers.js';

describe('precomputeSecurityHeaders', () => {
  it("gives helmet's headers for the options, once", () => {
    const { headers, removed } = precomputeSecurityHeaders({
      contentSecurityPolicy: { directives: { defaultSrc: ["'self'"], frameAncestors: ["'none'"] } },
      frameguard: { action: 'deny' },
      referrerPolicy: { policy: 'no-referrer' },
      hsts: false,
    });
    expect(headers).toMatchObject({
      'content-security-policy': expect.stringContaining("frame-ancestors 'none'"),
      'x-frame-options': 'DENY',
      'referrer-policy': 'no-referrer',
      'x-content-type-options': 'nosniff',
    });
    expect(headers['strict-transport-security']).toBeUndefined();
    expect(removed).toContain('x-powered-by');
  });

  it('includes HSTS when asked', () => {
    const { headers } = precomputeSecurityHeaders({ hsts: { maxAge: 31_536_000, includeSubDomains: true } });
    expect(headers['strict-transport-security']).toBe('max-age=31536000; includeSubDomains');
  });

  it('gives API answers a CSP that allows nothing', () => {
    const { headers } = precomputeSecurityHeaders({ contentSecurityPolicy: { useDefaults: false, directives: API_CSP_DIRECTIVES } });
    expect(headers['content-security-policy']).toBe("default-src 'none';base-uri 'none';form-action 'none';frame-ancestors 'none'");
  });
});

describe('isDocsUrl', () => {
  it.each([
    ['/api/docs', true],
    ['/api/docs/', true],
    ['/api/docs/swagger-ui-init.js', true],
    ['/api/docs?x=1', true],
    ['/api/documents', false],
    ['/api/docsx', false],
    ['/api/v1/polls/p/votes', false],
    ['/api/openapi.json', false],
  ])('%s → %s', (url, docs) => {
    expect(isDocsUrl(url)).toBe(docs);
  });
});

import { describe, expect, it } from '@jest/globals';
import { precomputeSecurityHeaders } from './security-headers.js';

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
});

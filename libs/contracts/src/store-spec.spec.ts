import { storeSpecProblems } from './store-spec.js';

const valid = {
  apiVersion: 'flotilla.io/v1',
  kind: 'Store',
  metadata: { name: 'shop' },
  spec: {
    template: 'wordpress',
    version: '6.6',
    replicas: 3,
    env: [{ name: 'WP_DEBUG', value: 'false' }],
    readinessProbe: { httpGet: { path: '/' }, periodSeconds: 5 },
    livenessProbe: { httpGet: { path: '/', port: 8080 }, periodSeconds: 10 },
    autoscale: { minReplicas: 2, maxReplicas: 6, targetCPUPercent: 70 },
    rollout: {
      strategy: 'Canary',
      steps: [{ weight: 10, pause: '30s' }, { weight: 50, pause: 'indefinite' }, { weight: 100 }],
      analysis: { interval: '10s', successCondition: 'errorRate < 0.01 && p95Ms < 500', failureLimit: 2, onNoData: 'pause' },
    },
  },
};

describe('storeSpecProblems', () => {
  it('accepts the API.md example', () => {
    expect(storeSpecProblems(valid)).toEqual([]);
  });

  it('names every bad field at once', () => {
    const bad = {
      ...valid,
      kind: 'Service',
      spec: {
        ...valid.spec,
        replicas: 0,
        env: [{ name: '1BAD', value: 'x' }, { name: 'WORDPRESS_DB_PASSWORD', value: 'mine' }],
        autoscale: { minReplicas: 2, maxReplicas: 6, targetCPUPercent: 170 },
      },
    };
    const paths = storeSpecProblems(bad).map((p) => p.path);
    expect(new Set(paths)).toEqual(new Set(['kind', 'spec.replicas', 'spec.env[0].name', 'spec.env[1].name', 'spec.autoscale.targetCPUPercent']));
  });

  it('names missing and unknown fields', () => {
    const { version: _version, ...spec } = valid.spec;
    const problems = storeSpecProblems({ ...valid, spec: { ...spec, image: 'x' } });
    expect(problems.map((p) => p.path).sort()).toEqual(['spec.image', 'spec.version']);
    expect(problems.find((p) => p.path === 'spec.image')?.message).toBe('spec.image is not a known field');
  });

  it('refuses a document that is not an object', () => {
    expect(storeSpecProblems('kind: Store')[0]?.path).toBe('(document)');
  });
});

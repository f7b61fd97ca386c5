import type { StoreSpecDocument } from '@flotilla/contracts';
import { differences, specOf } from './store-specs.js';
import type { StoreRow } from './store-repository.js';

const row = {
  name: 'shop',
  template: 'wordpress',
  version: '6.5',
  replicas: 1,
  rollout: { strategy: 'BlueGreen' },
  env: [],
  probes: {},
  autoscale: null,
} as unknown as StoreRow;

describe('store spec', () => {
  it('shows a store made before specs with empty env and no probes or autoscale', () => {
    const { env: _env, probes: _probes, autoscale: _autoscale, ...old } = row;
    expect(specOf(old as StoreRow)).toEqual({
      apiVersion: 'flotilla.io/v1',
      kind: 'Store',
      metadata: { name: 'shop' },
      spec: { template: 'wordpress', version: '6.5', replicas: 1, env: [], rollout: { strategy: 'BlueGreen' } },
    });
  });

  it('lists each changed field from the current desired state, and nothing for the same document', () => {
    const current = specOf(row);
    expect(differences(current, current)).toEqual([]);
    const wanted: StoreSpecDocument = {
      ...current,
      spec: { template: 'wordpress', version: '6.6', replicas: 3, env: [{ name: 'WP_DEBUG', value: 'false' }], autoscale: { minReplicas: 1, maxReplicas: 4, targetCPUPercent: 70 } },
    };
    expect(differences(current, wanted)).toEqual([
      { path: 'spec.version', from: '6.5', to: '6.6' },
      { path: 'spec.replicas', from: 1, to: 3 },
      { path: 'spec.env', from: [], to: [{ name: 'WP_DEBUG', value: 'false' }] },
      { path: 'spec.autoscale', from: null, to: { minReplicas: 1, maxReplicas: 4, targetCPUPercent: 70 } },
    ]);
  });

  it('walks into the rollout', () => {
    const current = specOf(row);
    const wanted: StoreSpecDocument = { ...current, spec: { ...current.spec, rollout: { strategy: 'BlueGreen', scaleDownDelaySeconds: 30 } } };
    expect(differences(current, wanted)).toEqual([{ path: 'spec.rollout.scaleDownDelaySeconds', from: null, to: 30 }]);
  });
});

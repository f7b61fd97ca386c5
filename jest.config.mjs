// Three projects: unit tests beside the code, integration tests against the real
// servers, end-to-end tests that start the built services. Test files are found by
// pattern, so a new service's tests join without editing this file.
const transform = {
  '^.+\\.ts$': ['ts-jest', { useESM: true, tsconfig: '<rootDir>/tsconfig.spec.json' }],
};
const common = {
  extensionsToTreatAsEsm: ['.ts'],
  transform,
  moduleNameMapper: {
    '^@flotilla/([a-z-]+)$': '<rootDir>/libs/$1/src/index.ts',
    '^(\\.{1,2}/.*)\\.js$': '$1',
  },
  testEnvironment: 'node',
};

export default {
  // Jest reads the timeout from the top level only; integration and end-to-end tests need minutes.
  testTimeout: 120_000,
  projects: [
    { ...common, displayName: 'unit', testMatch: ['<rootDir>/{libs,services,tools}/*/src/**/*.spec.ts'] },
    {
      ...common,
      displayName: 'integration',
      testMatch: ['<rootDir>/{libs,services}/*/test/**/*.int-spec.ts'],
    },
    // The slow fault runs of RELIABILITY.md (npm run test:chaos), not part of npm test: on
    // servers of their own, started and removed around the run.
    {
      ...common,
      displayName: 'chaos',
      testMatch: ['<rootDir>/chaos/**/*.chaos-spec.ts'],
      globalSetup: '<rootDir>/chaos/support/global-setup.mjs',
      globalTeardown: '<rootDir>/chaos/support/global-teardown.mjs',
    },
    // Deployment checks: the real Helm renders the charts, manifests are validated.
    { ...common, displayName: 'deploy', testMatch: ['<rootDir>/deploy/test/**/*.spec.ts'] },
    {
      ...common,
      displayName: 'e2e',
      testMatch: ['<rootDir>/e2e/**/*.e2e-spec.ts'],
      // Every answer of the gateway's /api/v1 a test fetches is checked against the OpenAPI document.
      setupFilesAfterEnv: ['<rootDir>/e2e/support/contract/setup.ts'],
    },
  ],
};

// ESLint 9 flat config: typescript-eslint's recommended rules (syntax only, no type
// information, so linting stays fast) and Nx module boundaries between the projects.
import js from '@eslint/js';
import nx from '@nx/eslint-plugin';
import { createProjectGraphAsync } from '@nx/devkit';
import tseslint from 'typescript-eslint';

// @nx/enforce-module-boundaries reads the project graph from Nx's cache and, when there
// is none, prints a warning and skips itself while ESLint still exits 0 — so a fresh
// clone (or CI) would pass a violating import. Computing the graph here first (no
// daemon: nx.json sets useDaemonProcess false) writes that cache; if it cannot be
// computed, linting fails instead of silently enforcing nothing.
try {
  await createProjectGraphAsync({ exitOnError: false });
} catch (error) {
  throw new Error(`eslint.config.mjs: Nx could not compute the project graph, so module boundaries cannot be checked: ${error?.message ?? error}`);
}

const TEST_FILES = ['**/*.spec.ts', '**/*.int-spec.ts', '**/*.e2e-spec.ts', '**/test/**/*.ts', 'e2e/**/*.ts', 'chaos/**/*.ts'];

/**
 * Which projects may import which, by the `type:*` tags in each project.json:
 * - service   -> infra, contracts, util (never another service: services talk over the bus)
 * - infra     -> infra, contracts, util
 * - contracts -> contracts (the bus contract depends on nothing else of ours)
 * - util      -> util
 * - testing   -> contracts, infra, util
 * - tool      -> contracts, util (command-line clients speak the public API only)
 * A project whose tags match no constraint may import no project at all, so a new
 * project without a `type:*` tag fails lint until it gets one.
 */
const depConstraints = (testFiles) => {
  const plusTesting = (tags) => (testFiles ? [...tags, 'type:testing'] : tags);
  return [
    { sourceTag: 'type:service', onlyDependOnLibsWithTags: plusTesting(['type:infra', 'type:contracts', 'type:util']) },
    { sourceTag: 'type:infra', onlyDependOnLibsWithTags: plusTesting(['type:infra', 'type:contracts', 'type:util']) },
    {
      sourceTag: 'type:contracts',
      onlyDependOnLibsWithTags: plusTesting(['type:contracts']),
      // Contracts are types and DTOs shared by every service: no infrastructure clients.
      ...(testFiles
        ? {}
        : {
            bannedExternalImports: [
              'pg',
              'typeorm',
              '@nestjs/typeorm',
              'ioredis',
              'amqplib',
              'amqp-connection-manager',
              'bullmq',
              '@aws-sdk/*',
              '@kubernetes/*',
            ],
          }),
    },
    { sourceTag: 'type:util', onlyDependOnLibsWithTags: plusTesting(['type:util']) },
    { sourceTag: 'type:tool', onlyDependOnLibsWithTags: plusTesting(['type:contracts', 'type:util']) },
    { sourceTag: 'type:testing', onlyDependOnLibsWithTags: ['type:contracts', 'type:infra', 'type:util', 'type:testing'] },
  ];
};

/** Node's globals for the plain JavaScript files (scripts, configs). */
const nodeGlobals = Object.fromEntries(
  [
    'process', 'console', 'Buffer', 'URL', 'URLSearchParams', 'fetch', 'AbortController', 'AbortSignal',
    'setTimeout', 'clearTimeout', 'setInterval', 'clearInterval', 'setImmediate', 'clearImmediate',
    'queueMicrotask', 'structuredClone', 'TextEncoder', 'TextDecoder', 'performance', 'globalThis',
  ].map((name) => [name, 'readonly']),
);

export default tseslint.config(
  {
    // Build output, dependencies, generated files, and scratch files (*.tmp.*) nobody commits.
    ignores: ['**/dist/**', '**/node_modules/**', '**/coverage/**', '.nx/**', '**/*.d.ts', '**/*.tmp.*', 'bench/results/**'],
  },
  js.configs.recommended,
  {
    files: ['**/*.{js,mjs,cjs}'],
    languageOptions: { ecmaVersion: 2023, sourceType: 'module', globals: nodeGlobals },
  },
  {
    files: ['**/*.ts', '**/*.tsx'],
    extends: [tseslint.configs.recommended],
    languageOptions: { ecmaVersion: 2023, sourceType: 'module' },
    plugins: { '@nx': nx },
    rules: {
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_', caughtErrors: 'none' }],
      '@nx/enforce-module-boundaries': [
        'error',
        { enforceBuildableLibDependency: false, allow: [], depConstraints: depConstraints(false) },
      ],
    },
  },
  {
    // Tests may also use the testing library. A lib's own tests importing it closes a
    // loop (testing -> lib -> its tests -> testing) that exists only in test code. And a
    // lib's integration tests (libs/<name>/test/) import it by its package name, through
    // its public API, as its users do.
    files: TEST_FILES,
    rules: {
      '@nx/enforce-module-boundaries': [
        'error',
        {
          enforceBuildableLibDependency: false,
          allowCircularSelfDependency: true,
          allow: [],
          depConstraints: depConstraints(true),
          ignoredCircularDependencies: [['testing', '*']],
        },
      ],
    },
  },
);

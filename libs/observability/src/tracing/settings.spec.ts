import { describe, expect, it } from '@jest/globals';
import { readFileSync } from 'node:fs';
import { TRACING_IMPORT, tracingSettings } from './settings.js';

const MAIN = '/app/services/upload/dist/main.js';

describe('tracingSettings', () => {
  it('is off when no OTEL_* variable asks for traces', () => {
    expect(tracingSettings({}, MAIN)).toEqual({ enabled: false, serviceName: 'upload' });
    expect(tracingSettings({ OTEL_EXPORTER_OTLP_ENDPOINT: '  ' }, MAIN).enabled).toBe(false);
  });

  it('is on with an OTLP endpoint (all signals or traces only) or a named exporter', () => {
    expect(tracingSettings({ OTEL_EXPORTER_OTLP_ENDPOINT: 'http://collector:4318' }, MAIN).enabled).toBe(true);
    expect(tracingSettings({ OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: 'http://collector:4318/v1/traces' }, MAIN).enabled).toBe(true);
    expect(tracingSettings({ OTEL_TRACES_EXPORTER: 'console' }, MAIN).enabled).toBe(true);
  });

  it('stays off in a process that runs no script (node -e, as the image\'s health check does)', () => {
    expect(tracingSettings({ OTEL_EXPORTER_OTLP_ENDPOINT: 'http://c:4318' }, undefined).enabled).toBe(false);
  });

  it('stays off when the SDK is disabled or the exporter is none, whatever else is set', () => {
    expect(tracingSettings({ OTEL_EXPORTER_OTLP_ENDPOINT: 'http://c:4318', OTEL_SDK_DISABLED: 'TRUE' }, MAIN).enabled).toBe(false);
    expect(tracingSettings({ OTEL_EXPORTER_OTLP_ENDPOINT: 'http://c:4318', OTEL_TRACES_EXPORTER: 'none' }, MAIN).enabled).toBe(false);
    expect(tracingSettings({ OTEL_EXPORTER_OTLP_ENDPOINT: 'http://c:4318', OTEL_SDK_DISABLED: 'false' }, MAIN).enabled).toBe(true);
  });

  it('names the service after OTEL_SERVICE_NAME, else the service that runs, else flotilla', () => {
    expect(tracingSettings({ OTEL_SERVICE_NAME: 'edge' }, MAIN).serviceName).toBe('edge');
    expect(tracingSettings({}, 'services/vote-consumer/dist/main.js').serviceName).toBe('vote-consumer');
    expect(tracingSettings({}, '/usr/bin/something.js').serviceName).toBe('flotilla');
  });

  it('is preloaded by the same flag under npm start, the benchmark and the tests', async () => {
    // By URL: the scripts are plain JavaScript outside the workspace packages.
    const scripts = new URL('../../../../scripts/lib/node-options.mjs', import.meta.url).href;
    const { TRACING_IMPORT: SCRIPTS_FLAG, serviceNodeOptions } = (await import(scripts)) as {
      TRACING_IMPORT: string;
      serviceNodeOptions: (name: string, given?: string) => string;
    };
    expect(SCRIPTS_FLAG).toBe(TRACING_IMPORT);
    // The tests' spawner (libs/testing) depends on no other package, so it states the flag itself.
    const spawner = readFileSync(new URL('../../../testing/src/service-process.ts', import.meta.url), 'utf8');
    expect(spawner).toContain(`export const TRACING_IMPORT = '${TRACING_IMPORT}';`);
    expect(serviceNodeOptions('upload').split(' ')).toContain(TRACING_IMPORT);
    // Beside another preload (the benchmark's profiler), not instead of it, and not twice.
    expect(serviceNodeOptions('upload', '--import=/x/profile.mjs').split(' ')).toEqual(['--import=/x/profile.mjs', '--max-semi-space-size=2', TRACING_IMPORT]);
    expect(serviceNodeOptions('upload', TRACING_IMPORT).split(' ').filter((f) => f === TRACING_IMPORT)).toHaveLength(1);
  });
});

/**
 * Whether this process exports traces, and as what service, decided from the standard
 * OpenTelemetry variables only. Tracing is on when an OTLP endpoint is given
 * (`OTEL_EXPORTER_OTLP_ENDPOINT` or `OTEL_EXPORTER_OTLP_TRACES_ENDPOINT`) or
 * `OTEL_TRACES_EXPORTER` names an exporter other than `none`; `OTEL_SDK_DISABLED=true`
 * turns it off whatever else is set. Off, nothing is loaded or hooked: the API stays the
 * no-op it is without an SDK.
 */
/**
 * The Node flag that loads tracing before a service (tracing/register.ts): in NODE_OPTIONS
 * of every service, under `npm start` (scripts/lib/node-options.mjs), in the image and in
 * the tests' spawner. Resolved from the working directory, the repository's root.
 */
export const TRACING_IMPORT = '--import=@flotilla/observability/tracing';

export interface TracingSettings {
  enabled: boolean;
  /** `OTEL_SERVICE_NAME`, else the service whose `services/<name>/dist/main.js` runs, else `flotilla`. */
  serviceName: string;
}

type Env = Record<string, string | undefined>;

const given = (value: string | undefined): boolean => value !== undefined && value.trim() !== '';

export function tracingSettings(env: Env, mainPath: string | undefined): TracingSettings {
  mainPath ??= '';
  const disabled = env.OTEL_SDK_DISABLED?.trim().toLowerCase() === 'true';
  const exporters = (env.OTEL_TRACES_EXPORTER ?? '')
    .split(',')
    .map((e) => e.trim().toLowerCase())
    .filter(Boolean);
  const endpoint = given(env.OTEL_EXPORTER_OTLP_ENDPOINT) || given(env.OTEL_EXPORTER_OTLP_TRACES_ENDPOINT);
  const exporterNamed = exporters.length > 0 && !exporters.includes('none');
  const exporterRefused = exporters.includes('none');
  // Only a process running a script: NODE_OPTIONS reaches `node -e` too (the image's health check).
  const enabled = !disabled && !exporterRefused && (endpoint || exporterNamed) && mainPath !== '';
  const fromPath = /services[\\/]([a-z0-9-]+)[\\/]dist[\\/]main\.js$/.exec(mainPath)?.[1];
  return { enabled, serviceName: given(env.OTEL_SERVICE_NAME) ? env.OTEL_SERVICE_NAME!.trim() : (fromPath ?? 'flotilla') };
}

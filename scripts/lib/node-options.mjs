/**
 * The Node flags every service runs with — under `npm start`, in the benchmark and in the
 * image (the Dockerfile's NODE_OPTIONS says the same). V8 grows a process's young
 * generation up to 16 MB per semi-space while it starts; capped lower, an idle service
 * holds 20–30 MB less (docs/PERFORMANCE.md, "Footprint").
 */
export const SERVICE_NODE_FLAGS = Object.freeze({
  default: ['--max-semi-space-size=2'],
  // Every vote allocates a few kilobytes that die young: at 2 MB the gateway spent a third
  // of its CPU collecting them under load, at 8 MB a seventh.
  gateway: ['--max-semi-space-size=8'],
  // Checking a large document piece by piece makes tens of millions of short-lived values;
  // some survive a scavenge each time, and with the heap limit V8 derives from a large
  // host's memory no full collection comes before hundreds of MB are held. A limit makes
  // V8 collect in time (a 16 MiB document: 19 MB growth instead of 140 MB).
  validator: ['--max-semi-space-size=2', '--max-old-space-size=512'],
});

/**
 * Loads OpenTelemetry before the service (libs/observability/src/tracing/register.ts, which
 * does nothing unless the standard OTEL_* variables ask for traces); the same flag as
 * TRACING_IMPORT there, which the test harness's spawner uses.
 */
export const TRACING_IMPORT = '--import=@flotilla/observability/tracing';

/**
 * NODE_OPTIONS for one service: the given options, plus each of the service's flags
 * the given options do not already set (a flag set by the user wins), plus the tracing
 * preload (beside any other `--import`).
 * @param {string} name the service
 * @param {string} [given] NODE_OPTIONS from the environment
 */
export function serviceNodeOptions(name, given = '') {
  const flags = SERVICE_NODE_FLAGS[name] ?? SERVICE_NODE_FLAGS.default;
  const missing = flags.filter((flag) => !given.includes(flag.split('=')[0]));
  const tracing = given.includes(TRACING_IMPORT) ? [] : [TRACING_IMPORT];
  return [given, ...missing, ...tracing].filter(Boolean).join(' ');
}

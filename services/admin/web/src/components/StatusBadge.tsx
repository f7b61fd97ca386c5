/** A status as a coloured badge; the colour follows what the status means, the text says it. */
const TONES: Record<string, 'good' | 'bad' | 'warn' | 'busy' | 'neutral'> = {
  up: 'good',
  ready: 'good',
  passed: 'good',
  succeeded: 'good',
  success: 'good',
  running: 'busy',
  queued: 'busy',
  pending: 'neutral',
  provisioning: 'busy',
  updating: 'busy',
  deleting: 'busy',
  replaying: 'busy',
  replayed: 'good',
  sent: 'good',
  discarded: 'neutral',
  degraded: 'warn',
  paused: 'warn',
  warning: 'warn',
  dead: 'bad',
  down: 'bad',
  failed: 'bad',
  failure: 'bad',
  error: 'bad',
};

export function StatusBadge({ status }: { status: string }) {
  return <span className={`badge badge-${TONES[status] ?? 'neutral'}`}>{status}</span>;
}

/** An HTTP status code, coloured by its class. */
export function HttpStatus({ status }: { status: number }) {
  const tone = status >= 500 ? 'bad' : status >= 400 ? 'warn' : 'good';
  return <span className={`badge badge-${tone}`}>{status}</span>;
}

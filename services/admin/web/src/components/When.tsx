/** A point in time as the console writes it, machine-readable too. */
import { formatTime } from '../format';

export function When({ at }: { at: string | null | undefined }) {
  if (!at) return <>—</>;
  return (
    <time dateTime={at} className="when">
      {formatTime(at)}
    </time>
  );
}

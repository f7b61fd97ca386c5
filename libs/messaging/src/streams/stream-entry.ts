/** One stream entry as the consumer hands it to a handler. */
export interface StreamEntry {
  /** The stream id, `<ms>-<seq>`. */
  id: string;
  fields: Record<string, string>;
}

/**
 * An entry moved to the dead-letter stream (`<stream>:dead`) after too many failed
 * deliveries: where it came from, its original fields (as JSON, so a replay can
 * XADD them back unchanged) and why it failed.
 */
export interface DeadLetter {
  stream: string;
  group: string;
  /** Id of the entry in its original stream. */
  id: string;
  fields: Record<string, string>;
  error: string;
  deliveries: number;
  consumer: string;
  at: string;
}

/** Turns Redis' flat `[field, value, field, value…]` reply into a record. */
export function fieldsToRecord(flat: readonly unknown[]): Record<string, string> {
  const record: Record<string, string> = {};
  for (let i = 0; i + 1 < flat.length; i += 2) record[String(flat[i])] = String(flat[i + 1]);
  return record;
}

/** The flat argument list XADD takes. */
export function recordToFields(record: Record<string, string>): string[] {
  return Object.entries(record).flat();
}

/** The stored form of a {@link DeadLetter} (all values strings, as streams hold them). */
export function deadLetterToFields(letter: DeadLetter): Record<string, string> {
  return {
    stream: letter.stream,
    group: letter.group,
    id: letter.id,
    fields: JSON.stringify(letter.fields),
    error: letter.error,
    deliveries: String(letter.deliveries),
    consumer: letter.consumer,
    at: letter.at,
  };
}

/** Reads an entry of a dead-letter stream back, e.g. to list or replay it. */
export function parseDeadLetter(fields: Record<string, string>): DeadLetter {
  let original: Record<string, string> = {};
  try {
    original = JSON.parse(fields.fields ?? '{}') as Record<string, string>;
  } catch {
    // Written by something else; keep the rest readable.
  }
  return {
    stream: fields.stream ?? '',
    group: fields.group ?? '',
    id: fields.id ?? '',
    fields: original,
    error: fields.error ?? '',
    deliveries: Number(fields.deliveries ?? 0),
    consumer: fields.consumer ?? '',
    at: fields.at ?? '',
  };
}

const STREAM_ID = /^(\d+)-(\d+)$/;

/** Splits a full stream id into its millisecond time and sequence; throws on anything else. */
export function parseStreamId(id: string): { ms: bigint; seq: bigint } {
  const match = STREAM_ID.exec(id);
  if (!match) throw new Error(`not a stream id: ${JSON.stringify(id)}`);
  return { ms: BigInt(match[1]!), seq: BigInt(match[2]!) };
}

/**
 * Orders stream ids as Redis does: by time, then sequence, numerically (as strings
 * `"9-0"` would sort after `"10-0"`). Negative when `a` is older.
 */
export function compareStreamIds(a: string, b: string): number {
  const x = parseStreamId(a);
  const y = parseStreamId(b);
  if (x.ms !== y.ms) return x.ms < y.ms ? -1 : 1;
  if (x.seq !== y.seq) return x.seq < y.seq ? -1 : 1;
  return 0;
}

import { parseStreamId, type StreamEntry } from '@flotilla/messaging';

/** A `votes` stream entry read into the columns of `vote_events`, checked for shape. */
export interface VoteRecord {
  streamId: string;
  voteId: string | null;
  pollId: string | null;
  option: string | null;
  voterId: string | null;
  ip: string | null;
  userAgent: string | null;
  requestId: string | null;
  /**
   * When the gateway accepted it (ISO, to the microsecond): the vote's place in its voter's
   * order. The stream id's time when the entry has no valid `at`.
   */
  at: string;
  /** Why the vote cannot count, or `null`. The poll and option are checked later, against the database. */
  problem: string | null;
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** Postgres text cannot hold NUL; an entry carrying one must not fail its whole batch. */
function clean(value: string | undefined, max: number): string | null {
  if (value === undefined) return null;
  const text = value.includes('\0') ? value.replace(/\0/g, '') : value;
  return text.length > max ? text.slice(0, max) : text;
}

/**
 * `Date#toISOString`'s form, `2026-11-23T09:00:00.000Z`, or with microseconds,
 * `2026-11-23T09:00:00.000001Z`, as the gateway writes `at`.
 */
const CANONICAL_ISO = /^\d{4}-(?:0[1-9]|1[0-2])-(?:0[1-9]|[12]\d|3[01])T(?:[01]\d|2[0-3]):[0-5]\d:[0-5]\d\.\d{3}(?:\d{3})?Z$/;

const digits = (s: string, from: number, to: number): number => Number(s.slice(from, to));

/** Whether `at`, in {@link CANONICAL_ISO} form, names a day that exists (not 2026-02-30). */
function dayExists(at: string): boolean {
  const day = digits(at, 8, 10);
  if (day <= 28) return true;
  const month = digits(at, 5, 7);
  if (month === 2) {
    const year = digits(at, 0, 4);
    return day === 29 && year % 4 === 0 && (year % 100 !== 0 || year % 400 === 0);
  }
  return day <= 30 || [1, 3, 5, 7, 8, 10, 12].includes(month);
}

/** The entry's `at` when it is a valid instant, else the time of its stream id; as `Date#toISOString` writes it. */
function instantOf(at: string | undefined, streamId: string): string {
  // What the gateway writes is already in that form: passed on without parsing.
  if (at !== undefined && CANONICAL_ISO.test(at) && dayExists(at)) return at;
  const parsed = at ? Date.parse(at) : Number.NaN;
  // Normalised, not passed on: Date.parse takes days Postgres refuses (2026-02-30 is 2026-03-02).
  return new Date(Number.isFinite(parsed) ? parsed : Number(parseStreamId(streamId).ms)).toISOString();
}

/** Reads an entry as the gateway writes it ({@link VoteStreamEntry}); never throws on bad content. */
export function toVoteRecord(entry: StreamEntry): VoteRecord {
  const f = entry.fields;
  const pollId = clean(f.pollId, 200);
  const option = clean(f.option, 200);
  const voterId = clean(f.voterId, 200);
  const voteId = f.voteId;
  return {
    streamId: entry.id,
    voteId: voteId !== undefined && voteId.length === 36 && UUID.test(voteId) ? voteId : null,
    pollId,
    option,
    voterId,
    ip: clean(f.ip, 100),
    userAgent: clean(f.userAgent, 512),
    requestId: clean(f.requestId ?? f.correlationId, 128),
    at: instantOf(f.at, entry.id),
    problem: pollId && option && voterId ? null : `missing ${[!pollId && 'pollId', !option && 'option', !voterId && 'voterId'].filter(Boolean).join(', ')}`,
  };
}

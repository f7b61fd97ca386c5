/**
 * The time a vote is accepted, as the `at` of its stream entry: the wall clock to the
 * millisecond, with microseconds that keep this process's votes strictly increasing, so
 * two votes of one voter accepted in the same millisecond keep their order. The vote
 * consumer orders a voter's votes by it (a replayed vote comes back under a newer stream
 * id, so the stream id cannot tell). Costs a clock read and a comparison.
 */
export class AcceptanceClock {
  /** The last instant handed out, in microseconds since the epoch. */
  private last = 0;

  constructor(private readonly now: () => number = Date.now) {}

  /** `2026-11-23T09:00:00.123001Z`: `Date#toISOString` with three more digits. */
  next(): string {
    const micros = Math.max(this.now() * 1000, this.last + 1);
    this.last = micros;
    const millis = Math.floor(micros / 1000);
    return `${new Date(millis).toISOString().slice(0, 23)}${String(micros - millis * 1000).padStart(3, '0')}Z`;
  }
}

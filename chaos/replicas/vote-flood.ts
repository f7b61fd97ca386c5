import type { Gateways } from './gateways.js';

export const OPTIONS = ['north', 'south', 'east', 'west'];

/**
 * A user's i-th vote, drawn with unequal weights (4:3:2:1) from a hash of user and round,
 * so the final counts are uneven and a writer that kept an older vote gets other numbers.
 */
function optionOf(user: number, i: number): string {
  let h = Math.imul(user * 100_003 + i + 1, 0x9e3779b1) >>> 0;
  h = Math.imul(h ^ (h >>> 15), 0x85ebca6b) >>> 0;
  const r = (h ^ (h >>> 13)) % 10;
  return OPTIONS[r < 4 ? 0 : r < 7 ? 1 : r < 9 ? 2 : 3]!;
}

/**
 * Voters spread over the gateways (voter n starts on gateway n mod count), each voting
 * again and again. The client's record is what it was told: the vote ids answered 202,
 * and each voter's last accepted option.
 */
export class VoteFlood {
  readonly accepted = new Map<string, { user: number; option: string }>();
  readonly lastAccepted = new Map<number, string>();
  readonly refused = new Map<number, number>();
  /** Votes whose request got no answer: the gateway may or may not have taken them. */
  unanswered = 0;
  sent = 0;
  private stopped = false;

  constructor(
    private readonly gateways: Gateways,
    private readonly poll: string,
    private readonly tokens: string[],
    private readonly maxPerUser: number,
  ) {}

  /** Runs until every voter has sent `maxPerUser` votes or stop() is called. */
  async run(): Promise<void> {
    await Promise.all(
      this.tokens.map(async (token, user) => {
        for (let i = 0; i < this.maxPerUser && !this.stopped; i++) {
          const option = optionOf(user, i);
          this.sent++;
          const { res } = await this.gateways.request<{ voteId: string }>(user, 'POST', `/api/v1/polls/${this.poll}/votes`, { token, body: { option } });
          if (!res) {
            // Sent again, so a voter's last vote is always one it was told about.
            this.unanswered++;
            i--;
          } else if (res.status === 202) {
            this.accepted.set(res.body.voteId, { user, option });
            this.lastAccepted.set(user, option);
          } else this.refused.set(res.status, (this.refused.get(res.status) ?? 0) + 1);
        }
      }),
    );
  }

  stop(): void {
    this.stopped = true;
  }

  /** Each option's count among the voters' last accepted votes: what the tallies must say. */
  recount(): Record<string, number> {
    const last = [...this.lastAccepted.values()];
    return Object.fromEntries(OPTIONS.map((o) => [o, last.filter((x) => x === o).length]));
  }
}

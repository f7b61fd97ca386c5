import { Injectable, NotFoundException } from '@nestjs/common';
import { RpcError, VotesRpc, type Poll } from '@flotilla/contracts';
import { RpcClient } from '@flotilla/messaging';

const FRESH_MS = 30_000;
const MISSING_MS = 2_000;

/**
 * Polls the gateway has seen, so that accepting a vote needs no round trip to
 * `vote-consumer`. Polls never lose options, so staleness is harmless: an entry past
 * its freshness is still served while it is refreshed in the background, so votes keep
 * being accepted while `vote-consumer` restarts. Unknown ids are remembered briefly so
 * a flood of bad ids cannot flood the bus.
 */
@Injectable()
export class PollCache {
  private readonly entries = new Map<string, { poll: Poll | null; until: number }>();
  private readonly loading = new Map<string, Promise<Poll | null>>();

  constructor(private readonly rpc: RpcClient) {}

  /** The poll, or 404 when it does not exist. */
  async get(pollId: string): Promise<Poll> {
    const cached = this.entries.get(pollId);
    let poll: Poll | null;
    if (cached && cached.until > Date.now()) poll = cached.poll;
    else if (cached?.poll) {
      // Stale but known: refresh behind the answer; a failed refresh keeps the entry.
      this.load(pollId).catch(() => undefined);
      poll = cached.poll;
    } else poll = await this.load(pollId);
    if (!poll) throw new NotFoundException(`Poll ${pollId} does not exist.`);
    return poll;
  }

  /** The poll when it is known and fresh, without waiting; otherwise use {@link get}. */
  peek(pollId: string): Poll | undefined {
    const cached = this.entries.get(pollId);
    return cached?.poll && cached.until > Date.now() ? cached.poll : undefined;
  }

  remember(poll: Poll): void {
    this.entries.set(poll.id, { poll, until: Date.now() + FRESH_MS });
  }

  private load(pollId: string): Promise<Poll | null> {
    let pending = this.loading.get(pollId);
    if (!pending) {
      pending = this.rpc
        .call<Poll>('votes', VotesRpc.GetPoll, { pollId })
        .then(
          (poll) => {
            this.remember(poll);
            return poll;
          },
          (error: unknown) => {
            if (!(error instanceof RpcError && error.code === 'NOT_FOUND')) throw error;
            this.entries.set(pollId, { poll: null, until: Date.now() + MISSING_MS });
            return null;
          },
        )
        .finally(() => this.loading.delete(pollId));
      this.loading.set(pollId, pending);
    }
    return pending;
  }
}

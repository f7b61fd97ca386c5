import { Injectable, NotFoundException } from '@nestjs/common';
import { LRUCache } from 'lru-cache';
import { RpcError, VotesRpc, type Poll } from '@flotilla/contracts';
import { RpcClient } from '@flotilla/messaging';

const FRESH_MS = 30_000;
const MISSING_MS = 2_000;
/** Polls in use; past this the least recently used is dropped (and fetched again when asked for). */
export const POLL_CACHE_MAX_POLLS = 10_000;
/** A poll nobody asked for in this long is dropped; one in use is refreshed long before. */
const UNUSED_MS = 60 * 60_000;
/** Unknown ids remembered at once: a flood of random ids pushes out only other unknown ids. */
export const POLL_CACHE_MAX_MISSES = 2_000;
/** Most entries the cache holds, known polls and misses together. */
export const POLL_CACHE_MAX_ENTRIES = POLL_CACHE_MAX_POLLS + POLL_CACHE_MAX_MISSES;

/**
 * Passed to every lookup: lru-cache's `get` otherwise allocates a default options object
 * per call, and the vote path looks a poll up on every request.
 */
const LOOKUP: LRUCache.GetOptions<string, Known, unknown> = {};

interface Known {
  poll: Poll;
  until: number;
}

/**
 * Polls the gateway has seen, so that accepting a vote needs no round trip to
 * `vote-consumer`. Polls never lose options, so staleness is harmless: an entry past
 * its freshness is still served while it is refreshed in the background, so votes keep
 * being accepted while `vote-consumer` restarts. Unknown ids are remembered briefly so
 * a flood of bad ids cannot flood the bus. Both are bounded LRUs, misses apart from
 * polls so that random ids cannot push the polls people vote on out of memory.
 */
@Injectable()
export class PollCache {
  private readonly polls = new LRUCache<string, Known>({ max: POLL_CACHE_MAX_POLLS, ttl: UNUSED_MS, updateAgeOnGet: true });
  private readonly missing = new LRUCache<string, true>({ max: POLL_CACHE_MAX_MISSES, ttl: MISSING_MS });
  /** Lookups in flight, at most one per id; each ends with its RPC's deadline. */
  private readonly loading = new Map<string, Promise<Poll | null>>();

  constructor(private readonly rpc: RpcClient) {}

  /** Entries held (known polls and remembered misses), for tests and metrics. */
  get size(): number {
    return this.polls.size + this.missing.size;
  }

  /** The poll, or 404 when it does not exist. */
  async get(pollId: string): Promise<Poll> {
    const cached = this.polls.get(pollId, LOOKUP);
    let poll: Poll | null;
    if (cached && cached.until > Date.now()) poll = cached.poll;
    else if (cached) {
      // Stale but known: refresh behind the answer; a failed refresh keeps the entry.
      this.load(pollId).catch(() => undefined);
      poll = cached.poll;
    } else if (this.missing.has(pollId)) poll = null;
    else poll = await this.load(pollId);
    if (!poll) throw new NotFoundException(`Poll ${pollId} does not exist.`);
    return poll;
  }

  /** The poll when it is known and fresh, without waiting; otherwise use {@link get}. */
  peek(pollId: string): Poll | undefined {
    const cached = this.polls.get(pollId, LOOKUP);
    return cached && cached.until > Date.now() ? cached.poll : undefined;
  }

  remember(poll: Poll): void {
    this.missing.delete(poll.id);
    this.polls.set(poll.id, { poll, until: Date.now() + FRESH_MS });
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
            this.missing.set(pollId, true);
            return null;
          },
        )
        .finally(() => this.loading.delete(pollId));
      this.loading.set(pollId, pending);
    }
    return pending;
  }
}

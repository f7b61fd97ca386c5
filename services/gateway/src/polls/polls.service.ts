import { Inject, Injectable, NotFoundException, ServiceUnavailableException, UnprocessableEntityException } from '@nestjs/common';
import { randomUUID } from 'node:crypto';
import type { Redis } from 'ioredis';
import { Naming } from '@flotilla/config';
import { POLL_ID_PATTERN, Streams, VotesRpc, type CreatePollRequest, type Poll, type PollList, type PollResults, type RpcActor } from '@flotilla/contracts';
import { REDIS, RpcClient } from '@flotilla/messaging';
import { correlationId, MetricsService } from '@flotilla/observability';
import type { AuthUser } from '@flotilla/auth';
import { PollCache } from './poll-cache.js';
import type { VoteAcceptedDto } from './dto/polls.dto.js';

export interface VoteOrigin {
  ip: string;
  userAgent: string;
}

/** The 503 detail when the votes stream cannot be written. */
export const VOTES_UNAVAILABLE = 'Votes cannot be accepted right now; try again shortly.';

const actorOf = (user: AuthUser): RpcActor => ({ userId: user.id, role: user.role, teamId: user.teamId });

/** Polls are owned by `vote-consumer`; votes enter through the `votes` stream. */
@Injectable()
export class PollsService {
  private readonly stream: string;
  private readonly ingested;

  constructor(
    private readonly rpc: RpcClient,
    private readonly cache: PollCache,
    @Inject(REDIS) private readonly redis: Redis,
    naming: Naming,
    metrics: MetricsService,
  ) {
    this.stream = naming.key(Streams.Votes);
    this.ingested = metrics.counter({ name: 'votes_ingested_total', help: 'Votes accepted and added to the votes stream' });
  }

  list(user: AuthUser): Promise<PollList> {
    return this.rpc.call<PollList>('votes', VotesRpc.ListPolls, {}, { actor: actorOf(user) });
  }

  async create(input: CreatePollRequest, user: AuthUser): Promise<Poll> {
    const poll = await this.rpc.call<Poll>('votes', VotesRpc.CreatePoll, input, { actor: actorOf(user) });
    this.cache.remember(poll);
    return poll;
  }

  /** Checks poll and option, then appends the vote to the stream; 503 at once when Redis is down. */
  async vote(pollId: string, option: string, user: AuthUser, origin: VoteOrigin): Promise<VoteAcceptedDto> {
    await this.checkVote(pollId, option);
    const voteId = randomUUID();
    try {
      await this.redis.xadd(this.stream, '*', ...this.voteEntry(voteId, pollId, option, user, origin, correlationId()));
    } catch {
      throw new ServiceUnavailableException(VOTES_UNAVAILABLE);
    }
    this.accepted();
    return { voteId, pollId, option };
  }

  /**
   * 404 when the poll does not exist, 422 when `option` is not one of its options;
   * synchronous (undefined) when the poll is in the cache and fresh.
   */
  checkVote(pollId: string, option: string): Promise<void> | undefined {
    const fresh = this.cache.peek(pollId);
    if (fresh) return this.checkOption(fresh, pollId, option);
    return this.cache.get(this.checkId(pollId)).then((poll) => this.checkOption(poll, pollId, option));
  }

  private checkOption(poll: Poll, pollId: string, option: string): undefined {
    if (!poll.options.includes(option)) {
      throw new UnprocessableEntityException(`"${option}" is not an option of poll ${pollId}; options: ${poll.options.join(', ')}.`);
    }
    return undefined;
  }

  /** The fields of a vote's entry on the `votes` stream, as `vote-consumer` reads them. */
  voteEntry(voteId: string, pollId: string, option: string, user: AuthUser, origin: VoteOrigin, requestId: string): string[] {
    return [
      'voteId', voteId,
      'pollId', pollId,
      'option', option,
      'voterId', user.id,
      'ip', origin.ip,
      'userAgent', origin.userAgent.slice(0, 512),
      'requestId', requestId,
      'at', new Date().toISOString(),
    ];
  }

  /** The stream votes are appended to. */
  get votesStream(): string {
    return this.stream;
  }

  /** Counts a vote written to the stream. */
  accepted(): void {
    this.ingested.inc();
  }

  results(pollId: string, user: AuthUser): Promise<PollResults> {
    return this.rpc.call<PollResults>('votes', VotesRpc.Results, { pollId: this.checkId(pollId) }, { actor: actorOf(user) });
  }

  /** An id that cannot be a poll is simply not found. */
  private checkId(pollId: string): string {
    if (!POLL_ID_PATTERN.test(pollId)) throw new NotFoundException(`Poll ${pollId} does not exist.`);
    return pollId;
  }
}

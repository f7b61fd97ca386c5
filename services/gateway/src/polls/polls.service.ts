import { Injectable, NotFoundException, UnprocessableEntityException } from '@nestjs/common';
import { Naming } from '@flotilla/config';
import { POLL_ID_PATTERN, Streams, VotesRpc, type CreatePollRequest, type Poll, type PollList, type PollResults, type RpcActor } from '@flotilla/contracts';
import { RpcClient, traceHeaders } from '@flotilla/messaging';
import { MetricsService } from '@flotilla/observability';
import type { AuthUser } from '@flotilla/auth';
import { AcceptanceClock } from './acceptance-clock.js';
import { PollCache } from './poll-cache.js';

export interface VoteOrigin {
  ip: string;
  userAgent: string;
}

const actorOf = (user: AuthUser): RpcActor => ({ userId: user.id, role: user.role, teamId: user.teamId });

/** Polls are owned by `vote-consumer`; votes enter through the `votes` stream (written by VoteRoute). */
@Injectable()
export class PollsService {
  private readonly stream: string;
  private readonly ingested;
  /** A vote's `at`: its place in its voter's order, whatever stream id a replay gives it. */
  private readonly clock = new AcceptanceClock();

  constructor(
    private readonly rpc: RpcClient,
    private readonly cache: PollCache,
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
      'at', this.clock.next(),
      // The request's trace context (`traceparent`), when tracing is on: vote-consumer's batch links to it.
      ...Object.entries(traceHeaders()).flat(),
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

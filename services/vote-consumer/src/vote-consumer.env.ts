import { IsInt, Max, Min } from 'class-validator';
import { BaseEnv } from '@flotilla/config';

export class VoteConsumerEnv extends BaseEnv {
  @IsInt()
  @Min(0)
  @Max(65535)
  HTTP_PORT = 8084;

  /**
   * Votes read, and committed in one transaction, at a time. Large batches spread the
   * per-transaction cost (round trips, the poll's lock, planning) over more votes; a batch
   * of 5,000 takes about a tenth of a second. A batch that fails is retried vote by vote,
   * which takes longer the larger it is.
   */
  @IsInt()
  @Min(1)
  @Max(10_000)
  VOTE_BATCH_SIZE = 5000;

  /**
   * Stream consumers in this process. A batch's writes run under its polls' locks, so
   * consumers of the same poll take turns: more than one pays off only when votes are
   * spread over many polls. Scale across polls or processes rather than within one.
   */
  @IsInt()
  @Min(1)
  @Max(16)
  VOTE_CONCURRENCY = 1;

  /** How long a read waits for new votes when the stream is idle. */
  @IsInt()
  @Min(1)
  @Max(60_000)
  VOTE_BLOCK_MS = 2000;

  /**
   * After a read that found less than a batch, wait this long before the next, so votes
   * arriving steadily are committed many per transaction rather than a few each; results
   * show a vote at most this much later. A backlog is read without waiting.
   */
  @IsInt()
  @Min(0)
  @Max(5000)
  VOTE_LINGER_MS = 100;

  /**
   * Votes pending this long (their consumer died, or their batch failed) are taken
   * over by another consumer. Must exceed the slowest batch, or a batch runs twice
   * (harmless, the writes are idempotent, but wasted).
   */
  @IsInt()
  @Min(100)
  @Max(3_600_000)
  VOTE_CLAIM_IDLE_MS = 30_000;

  /** Deliveries a vote gets before it goes to the dead-letter stream `votes:dead`. */
  @IsInt()
  @Min(1)
  @Max(1000)
  VOTE_MAX_DELIVERIES = 5;

  /** How often acknowledged votes are trimmed from the stream. */
  @IsInt()
  @Min(100)
  @Max(3_600_000)
  VOTE_TRIM_INTERVAL_MS = 10_000;
}

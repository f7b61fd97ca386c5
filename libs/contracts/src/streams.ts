/** Redis Streams used across services (names before the per-run key prefix). */
export const Streams = {
  Votes: 'votes',
  Requests: 'requests',
} as const;

export const StreamGroups = {
  VoteProcessors: 'vote-processors',
  RequestLoggers: 'request-loggers',
} as const;

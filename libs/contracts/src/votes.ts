/** Votes: RPC patterns served by `vote-consumer` and the `votes` stream entry. */
export const VotesRpc = {
  ListPolls: 'votes.listPolls',
  GetPoll: 'votes.getPoll',
  CreatePoll: 'votes.createPoll',
  Results: 'votes.results',
} as const;

export const POLL_ID_PATTERN = /^[a-z0-9][a-z0-9-]{1,62}$/;
export const DEFAULT_POLL = { id: 'cats-vs-dogs', question: 'Cats or dogs?', options: ['cats', 'dogs'] } as const;

export interface Poll {
  id: string;
  question: string;
  options: string[];
  createdAt: string;
}

export interface PollList {
  items: Poll[];
}

export interface CreatePollRequest {
  id: string;
  question: string;
  options: string[];
}

export interface GetPollRequest {
  pollId: string;
}

export interface OptionResult {
  option: string;
  count: number;
  percentage: number;
}

export interface PollResults {
  pollId: string;
  total: number;
  options: OptionResult[];
  updatedAt: string;
}

/** One accepted vote as the gateway XADDs it to the `votes` stream (all fields strings). */
export interface VoteStreamEntry {
  voteId: string;
  pollId: string;
  option: string;
  voterId: string;
  ip: string;
  userAgent: string;
  requestId: string;
  at: string;
}

import { Injectable, type OnModuleInit } from '@nestjs/common';
import { RpcError, VotesAdminRpc, VotesRpc, type Poll, type PollList, type PollResults } from '@flotilla/contracts';
import { isAdminCaller, RpcServer, validatePayload, type RpcRequestMeta } from '@flotilla/messaging';
import { CreatePollDto, PollRefDto } from './dto/polls.dto.js';
import { PollExistsError, PollsService } from './polls.service.js';

/**
 * The `votes.*` RPC patterns on the `votes.rpc` queue. Payloads are validated here
 * (VALIDATION with each field's problem); domain outcomes become typed errors
 * (NOT_FOUND, CONFLICT, FORBIDDEN) that the gateway turns into problem+json.
 */
@Injectable()
export class PollsRpc implements OnModuleInit {
  constructor(
    private readonly polls: PollsService,
    private readonly server: RpcServer,
  ) {}

  /** Registers the handlers; the server starts consuming at bootstrap. */
  onModuleInit(): void {
    this.server.handle(VotesRpc.ListPolls, () => this.listPolls());
    this.server.handle(VotesRpc.GetPoll, (payload) => this.getPoll(payload));
    this.server.handle(VotesRpc.CreatePoll, (payload, meta) => this.createPoll(payload, meta));
    this.server.handle(VotesRpc.Results, (payload) => this.results(payload));
    this.server.handle(VotesAdminRpc.Counts, (_payload, meta) => this.counts(meta));
  }

  /** For the admin's figures: administrators, or the admin service calling on its own (by the verified caller token). */
  async counts(meta: Pick<RpcRequestMeta, 'actor' | 'caller'>): Promise<{ total: number; polls: number }> {
    if (!isAdminCaller(meta, ['admin'])) throw new RpcError('FORBIDDEN', 'Only administrators see vote counts.');
    return this.polls.counts();
  }

  async listPolls(): Promise<PollList> {
    return { items: await this.polls.list() };
  }

  async getPoll(payload: unknown): Promise<Poll> {
    const { pollId } = await validatePayload(PollRefDto, payload);
    const poll = await this.polls.get(pollId);
    if (!poll) throw notFound(pollId);
    return poll;
  }

  /** Admins only: the gateway checks the role, and so does the owner of the data. */
  async createPoll(payload: unknown, meta: Pick<RpcRequestMeta, 'actor'>): Promise<Poll> {
    if (meta.actor?.role !== 'admin') throw new RpcError('FORBIDDEN', 'Only administrators create polls.');
    const input = await validatePayload(CreatePollDto, payload);
    try {
      return await this.polls.create(input);
    } catch (error) {
      if (error instanceof PollExistsError) throw new RpcError('CONFLICT', error.message);
      throw error;
    }
  }

  async results(payload: unknown): Promise<PollResults> {
    const { pollId } = await validatePayload(PollRefDto, payload);
    const results = await this.polls.results(pollId);
    if (!results) throw notFound(pollId);
    return results;
  }
}

const notFound = (pollId: string): RpcError => new RpcError('NOT_FOUND', `Poll ${pollId} does not exist.`);

import type { ApiClient, ApiResponse } from '../../e2e/support/platform.js';

/**
 * A client of several gateways, as a load balancer in front of them would be: each caller
 * keeps to its own gateway, and a gateway that stops answering (refused or reset
 * connections) is left for the others. A request that failed on the way is not resent
 * here: whether it was carried out is unknown, so the caller decides.
 */
export class Gateways {
  private readonly down = new Set<number>();
  /** Requests that never got an answer, by gateway index. */
  readonly unanswered: number[];

  constructor(readonly apis: ApiClient[]) {
    this.unanswered = apis.map(() => 0);
  }

  /** The gateway a caller numbered `n` uses: its own unless that one is down. */
  pick(n: number): number {
    for (let i = 0; i < this.apis.length; i++) {
      const index = (n + i) % this.apis.length;
      if (!this.down.has(index)) return index;
    }
    throw new Error('every gateway is down');
  }

  /**
   * One request through caller `n`'s gateway. Resolves with the answer, or with
   * `undefined` when the connection failed; that gateway is then taken out of use.
   */
  async request<T = Record<string, unknown>>(
    n: number,
    method: string,
    path: string,
    options: Parameters<ApiClient['request']>[2] = {},
  ): Promise<{ res?: ApiResponse<T>; gateway: number }> {
    const gateway = this.pick(n);
    try {
      return { res: await this.apis[gateway]!.request<T>(method, path, options), gateway };
    } catch {
      this.unanswered[gateway]!++;
      this.down.add(gateway);
      return { gateway };
    }
  }

  /**
   * An idempotent request, sent again (to whichever gateway is up) until it gets an answer
   * that `done` accepts, or `attempts` run out; resolves with the last answer.
   */
  async retry<T = Record<string, unknown>>(
    n: number,
    method: string,
    path: string,
    options: Parameters<ApiClient['request']>[2],
    done: (res: ApiResponse<T>) => boolean,
    attempts = 20,
  ): Promise<ApiResponse<T> | undefined> {
    let last: ApiResponse<T> | undefined;
    for (let i = 0; i < attempts; i++) {
      const { res } = await this.request<T>(n, method, path, options);
      if (res) last = res;
      if (res && done(res)) return res;
      await new Promise((resolve) => setTimeout(resolve, 500));
    }
    return last;
  }
}

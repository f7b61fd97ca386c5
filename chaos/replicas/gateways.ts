import type { ApiClient, ApiResponse } from '../../e2e/support/platform.js';

/**
 * A client of several gateways, as a load balancer in front of them would be: each caller
 * keeps to its own gateway, and a gateway that refuses connections is left for the others,
 * the refused request going to the next one (it never arrived, so it is safe to send
 * again). A request cut off on the way (a reset connection) is not resent here: whether
 * it was carried out is unknown, so the caller decides.
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
   * One request through caller `n`'s gateway. Resolves with the answer, or without one
   * when the request was cut off on the way.
   */
  async request<T = Record<string, unknown>>(
    n: number,
    method: string,
    path: string,
    options: Parameters<ApiClient['request']>[2] = {},
  ): Promise<{ res?: ApiResponse<T>; gateway: number }> {
    for (;;) {
      const gateway = this.pick(n);
      try {
        return { res: await this.apis[gateway]!.request<T>(method, path, options), gateway };
      } catch (error) {
        if (causeCode(error) === 'ECONNREFUSED') {
          this.down.add(gateway);
          continue;
        }
        this.unanswered[gateway]!++;
        return { gateway };
      }
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

/** The system error code under fetch's "fetch failed". */
function causeCode(error: unknown): string | undefined {
  return (error as { cause?: { code?: string } }).cause?.code;
}

// s3rver ships no types; this is the part of its API the embedded S3 uses.
declare module 's3rver' {
  interface S3rverOptions {
    directory: string;
    silent?: boolean;
    /** Whether a Host that is not an IP address or `localhost` names a bucket (virtual-hosted style). */
    vhostBuckets?: boolean;
    /** Created (or kept, if they exist) before `run()` listens. */
    configureBuckets?: { name: string; configs?: (string | Buffer)[] }[];
  }
  export default class S3rver {
    constructor(options: S3rverOptions);
    /** Creates the `configureBuckets`; `run()` does it before listening. */
    configureBuckets(): Promise<unknown>;
    /** The Koa request handler, for a server of one's own. */
    callback(): (req: import('node:http').IncomingMessage, res: import('node:http').ServerResponse) => void;
  }
}

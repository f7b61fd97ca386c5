// The embedded S3 (s3rver) in a process of its own, so that the benchmark's clients do
// not share its event loop. Prints `{"endpoint": …}` once it listens; SIGTERM closes it
// and removes its temporary directory.
import { startEmbeddedS3 } from '@flotilla/storage';

const s3 = await startEmbeddedS3();
process.stdout.write(`${JSON.stringify({ endpoint: s3.endpoint })}\n`);
const close = () => s3.close().finally(() => process.exit(0));
process.on('SIGTERM', close);
process.on('SIGINT', close);

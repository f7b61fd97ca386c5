// The raw limit for vote ingest: a bare Fastify route on this machine that parses the
// same JSON body and answers 202, with nothing behind it. Prints its port, then serves.
import Fastify from 'fastify';

const app = Fastify({ logger: false });
app.post('/api/v1/polls/:pollId/votes', async (request, reply) => {
  const { option } = request.body ?? {};
  reply.code(202);
  return { voteId: '00000000-0000-4000-8000-000000000000', pollId: request.params.pollId, option };
});
await app.listen({ port: 0, host: '127.0.0.1' });
process.stdout.write(`${app.server.address().port}\n`);
process.on('SIGTERM', () => app.close().then(() => process.exit(0)));

// The raw limit for an RPC round trip: an amqplib consumer on its own queue that answers
// each request at once on its `replyTo` (direct reply-to), acknowledging after the reply
// as the platform's RPC servers do. Nothing else runs in it. Prints `ready` once it consumes.
//
//   node bench/lib/servers/rpc-echo.mjs <queue>
import amqp from 'amqplib';

const queue = process.argv[2];
const connection = await amqp.connect(process.env.AMQP_URL ?? 'amqp://guest:guest@127.0.0.1:5672', { noDelay: true });
const channel = await connection.createChannel();
await channel.assertQueue(queue, { durable: false, autoDelete: true });
await channel.prefetch(32);
await channel.consume(queue, (message) => {
  if (!message) return;
  const request = JSON.parse(message.content.toString());
  const reply = Buffer.from(JSON.stringify({ ok: true, data: { echo: request.payload, at: new Date().toISOString() } }));
  channel.sendToQueue(message.properties.replyTo, reply, { correlationId: message.properties.correlationId, contentType: 'application/json' });
  channel.ack(message);
});
process.stdout.write('ready\n');
const close = () => connection.close().catch(() => undefined).finally(() => process.exit(0));
process.on('SIGTERM', close);
process.on('SIGINT', close);

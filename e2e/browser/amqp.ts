import amqp from 'amqplib';
import { Naming } from '@flotilla/config';
import { topologyNames } from '@flotilla/messaging';
import { publishSigned, TEST_AMQP_URL } from '@flotilla/testing';

/**
 * Publishes an event to the namespace's `flotilla.events` exchange as the services do
 * (routing key = event type), with a publisher confirm.
 */
export async function publishEvent(namespace: string, type: string, envelope: unknown): Promise<void> {
  const names = topologyNames(new Naming(namespace), 'validator', 'validator');
  const connection = await amqp.connect(TEST_AMQP_URL);
  try {
    const channel = await connection.createConfirmChannel();
    publishSigned(channel, names.eventsExchange, type, envelope, { persistent: true, contentType: 'application/json' });
    await channel.waitForConfirms();
    await channel.close();
  } finally {
    await connection.close();
  }
}

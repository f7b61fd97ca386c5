import { createHmac } from 'node:crypto';
import { NotificationHeaders, type NotificationPayload } from '@flotilla/contracts';

/** `sha256=<hex HMAC-SHA256(secret, "<timestamp>.<body>")>`, the value of `X-Flotilla-Signature`. */
export function webhookSignature(secret: string, timestamp: string, body: string): string {
  return `sha256=${createHmac('sha256', secret).update(`${timestamp}.${body}`).digest('hex')}`;
}

/**
 * POSTs `payload` to a webhook, signed. Anything but a 2xx answer within `timeoutMs` is a
 * failure (a redirect too: it is not followed, so a delivery cannot be sent somewhere the
 * administrator did not name). Rejects with what went wrong.
 */
export async function sendWebhook(target: { url: string; secret: string }, payload: NotificationPayload, timeoutMs: number): Promise<void> {
  const body = JSON.stringify(payload);
  const timestamp = String(Math.floor(Date.now() / 1000));
  let response: Response;
  try {
    response = await fetch(target.url, {
      method: 'POST',
      redirect: 'manual',
      signal: AbortSignal.timeout(timeoutMs),
      headers: {
        'content-type': 'application/json',
        'user-agent': 'Flotilla-Notifications/1',
        [NotificationHeaders.Event]: payload.event,
        [NotificationHeaders.Delivery]: payload.id,
        [NotificationHeaders.Timestamp]: timestamp,
        [NotificationHeaders.Signature]: webhookSignature(target.secret, timestamp, body),
      },
      body,
    });
  } catch (error) {
    if (error instanceof Error && (error.name === 'TimeoutError' || error.name === 'AbortError')) throw new Error(`no answer within ${timeoutMs} ms`);
    const cause = error instanceof Error && error.cause instanceof Error ? `: ${error.cause.message}` : '';
    throw new Error(`${error instanceof Error ? error.message : String(error)}${cause}`);
  }
  // The answer's body is not used; reading it frees the connection.
  await response.arrayBuffer().catch(() => undefined);
  if (response.status < 200 || response.status > 299) {
    const where = response.status >= 300 && response.status < 400 ? ` (a redirect to ${response.headers.get('location') ?? 'nowhere'}, not followed)` : '';
    throw new Error(`the webhook answered ${response.status}${where}`);
  }
}

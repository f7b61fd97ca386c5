import { createHmac, timingSafeEqual } from 'node:crypto';
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { SMTPServer } from 'smtp-server';

export interface ReceivedHook {
  path: string;
  headers: IncomingHttpHeaders;
  body: string;
  /** The answer the receiver gave. */
  status: number;
  /** When it arrived (ms since the epoch). */
  at: number;
  /** X-Flotilla-Signature is the HMAC of `<timestamp>.<body>` under the receiver's secret. */
  verified: boolean;
}

export interface WebhookReceiver {
  url: string;
  secret: string;
  received: ReceivedHook[];
  /** Requests to `path`. */
  at(path: string): ReceivedHook[];
  close(): Promise<void>;
}

/** Verifies a webhook delivery as a receiver should: HMAC-SHA256 of `<timestamp>.<body>`, compared in constant time. */
export function verifySignature(secret: string, headers: IncomingHttpHeaders, body: string): boolean {
  const timestamp = headers['x-flotilla-timestamp'];
  const signature = headers['x-flotilla-signature'];
  if (typeof timestamp !== 'string' || typeof signature !== 'string') return false;
  const expected = Buffer.from(`sha256=${createHmac('sha256', secret).update(`${timestamp}.${body}`).digest('hex')}`);
  const given = Buffer.from(signature);
  return given.length === expected.length && timingSafeEqual(given, expected);
}

/**
 * A local webhook receiver. `answer(path, nth)` gives the status of the nth (1-based)
 * request to a path; `delayMs` holds every answer back that long.
 */
export async function webhookReceiver(secret: string, answer: (path: string, nth: number) => number, delayMs = 0): Promise<WebhookReceiver> {
  const received: ReceivedHook[] = [];
  const server: Server = createServer((request, response) => {
    const chunks: Buffer[] = [];
    request.on('data', (chunk: Buffer) => chunks.push(chunk));
    request.on('end', () => {
      const body = Buffer.concat(chunks).toString('utf8');
      const path = request.url ?? '/';
      const status = answer(path, received.filter((r) => r.path === path).length + 1);
      received.push({ path, headers: request.headers, body, status, at: Date.now(), verified: verifySignature(secret, request.headers, body) });
      setTimeout(() => response.writeHead(status, { 'content-type': 'text/plain' }).end(status < 300 ? 'ok' : 'no'), delayMs);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    secret,
    received,
    at: (path) => received.filter((r) => r.path === path),
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

export interface ReceivedMail {
  to: string[];
  from: string;
  /** The message as sent, headers unfolded and quoted-printable soft breaks removed. */
  text: string;
}

export interface MailReceiver {
  url: string;
  mails: ReceivedMail[];
  close(): Promise<void>;
}

/** A real SMTP server on a local port (no TLS, no auth), keeping what it receives. */
export async function mailReceiver(): Promise<MailReceiver> {
  const mails: ReceivedMail[] = [];
  const server = new SMTPServer({
    authOptional: true,
    disabledCommands: ['AUTH', 'STARTTLS'],
    logger: false,
    onData(stream, session, callback) {
      const chunks: Buffer[] = [];
      stream.on('data', (chunk: Buffer) => chunks.push(chunk));
      stream.on('end', () => {
        const raw = Buffer.concat(chunks).toString('utf8');
        mails.push({
          to: session.envelope.rcptTo.map((r) => r.address),
          from: session.envelope.mailFrom ? session.envelope.mailFrom.address : '',
          text: raw.replace(/=\r?\n/g, '').replace(/\r?\n[ \t]+/g, ' '),
        });
        callback();
      });
    },
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.server.address() as AddressInfo;
  return { url: `smtp://127.0.0.1:${port}`, mails, close: () => new Promise<void>((resolve) => server.close(() => resolve())) };
}

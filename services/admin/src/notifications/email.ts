import nodemailer, { type Transporter } from 'nodemailer';
import type { NotificationPayload } from '@flotilla/contracts';

export const SMTP_NOT_CONFIGURED = 'SMTP not configured: set SMTP_URL and SMTP_FROM in the admin service';

/** Sends notification e-mail over SMTP (`SMTP_URL`, from `SMTP_FROM`); one transport, reused. */
export class EmailSender {
  private transport?: Transporter;

  constructor(
    private readonly smtpUrl: string,
    private readonly from: string,
    private readonly timeoutMs: number,
  ) {}

  get configured(): boolean {
    return this.smtpUrl !== '' && this.from !== '';
  }

  async send(to: string[], payload: NotificationPayload): Promise<void> {
    if (!this.configured) throw new Error(SMTP_NOT_CONFIGURED);
    this.transport ??= nodemailer.createTransport({
      url: this.smtpUrl,
      connectionTimeout: this.timeoutMs,
      greetingTimeout: this.timeoutMs,
      socketTimeout: this.timeoutMs,
    });
    await this.transport.sendMail({
      from: this.from,
      to,
      subject: `[Flotilla] ${payload.event}: ${payload.summary}`.replace(/[\r\n]+/g, ' ').slice(0, 200),
      text: emailText(payload),
      headers: { 'X-Flotilla-Event': payload.event, 'X-Flotilla-Delivery': payload.id },
    });
  }

  close(): void {
    this.transport?.close();
  }
}

function emailText(payload: NotificationPayload): string {
  const details = Object.entries(payload.data)
    .filter(([, value]) => value !== null && value !== undefined && value !== '')
    .map(([key, value]) => `  ${key}: ${typeof value === 'string' ? value : JSON.stringify(value)}`);
  return [payload.summary, '', `Event: ${payload.event}`, `At: ${payload.occurredAt}`, ...(details.length ? ['Details:', ...details] : []), '', `Delivery ${payload.id}`].join('\n');
}

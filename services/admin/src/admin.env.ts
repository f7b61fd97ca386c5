import { IsInt, IsString, Matches, Max, Min } from 'class-validator';
import { BaseEnv } from '@flotilla/config';

export class AdminEnv extends BaseEnv {
  @IsInt()
  @Min(0)
  @Max(65535)
  HTTP_PORT = 8086;

  /** Datasets older than this many days are purged by the retention cleanup (0: every dataset, for trying it out). */
  @IsInt()
  @Min(0)
  @Max(36_500)
  RETENTION_DAYS = 30;

  /** How often the retention cleanup runs on its own. */
  @IsInt()
  @Min(60_000)
  CLEANUP_INTERVAL_MS = 24 * 3600 * 1000;

  /** A service instance with no heartbeat for this long is down. */
  @IsInt()
  @Min(1000)
  @Max(3_600_000)
  SERVICE_DOWN_AFTER_MS = 15_000;

  /** How often dead-letter queues and streams are collected into the console's list. */
  @IsInt()
  @Min(200)
  @Max(600_000)
  DEAD_LETTER_POLL_MS = 2000;

  /** Request log entries older than this many days are removed. */
  @IsInt()
  @Min(1)
  @Max(3650)
  REQUEST_LOG_RETENTION_DAYS = 30;

  /**
   * After a read of the request stream that found less than a batch, wait this long
   * before the next: under steady traffic, one insert per many requests rather than a
   * few each. The console's request log is at most this much later.
   */
  @IsInt()
  @Min(0)
  @Max(10_000)
  REQUEST_LOG_LINGER_MS = 500;

  /** The built web console (`vite build` output); empty: the one beside this service. */
  @IsString()
  CONSOLE_DIR = '';

  /** How often the notification deliverer looks for due deliveries when it found none. */
  @IsInt()
  @Min(50)
  @Max(60_000)
  NOTIFY_POLL_MS = 1000;

  /** Attempts of a notification delivery before it is `dead`. */
  @IsInt()
  @Min(1)
  @Max(20)
  NOTIFY_MAX_ATTEMPTS = 5;

  /** Wait before the second attempt of a delivery; doubled before each further one. */
  @IsInt()
  @Min(10)
  @Max(3_600_000)
  NOTIFY_RETRY_BASE_MS = 1000;

  /** How long a webhook or an SMTP server may take to answer one delivery. */
  @IsInt()
  @Min(100)
  @Max(60_000)
  NOTIFY_TIMEOUT_MS = 5000;

  /** Sent and dead notification deliveries older than this many days are removed (pending ones never). */
  @IsInt()
  @Min(1)
  @Max(3650)
  NOTIFY_RETENTION_DAYS = 30;

  /** SMTP server of e-mail notifications, `smtp://[user:pass@]host:port` (`smtps://` for TLS from the start); empty: e-mail deliveries fail, saying so. */
  @IsString()
  @Matches(/^$|^smtps?:\/\/[^\s]+$/, { message: 'SMTP_URL must be empty or an smtp:// or smtps:// URL' })
  SMTP_URL = '';

  /** Sender of e-mail notifications, e.g. `Flotilla <alerts@example.com>`; required with SMTP_URL. */
  @IsString()
  @Matches(/^$|^[^\r\n]{1,300}$/, { message: 'SMTP_FROM must be one line' })
  SMTP_FROM = '';
}

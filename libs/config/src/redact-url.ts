/** What stands in for the user and password of a URL in anything printed. */
export const REDACTED_USERINFO = '***';

/**
 * `scheme://` then anything up to the last `@` before a space, quote or angle bracket: the
 * userinfo of a URL, also of a malformed one whose password holds `/` or `@` unescaped.
 * Greedy on purpose: cutting too much of a log line is better than leaving a password.
 */
const USERINFO_IN_TEXT = /\b([a-z][a-z0-9+.-]*:\/\/)[^\s"'<>`]*@/gi;

/**
 * `amqp://user:secret@host:5672/vhost` → `amqp://***@host:5672/vhost`: a URL with its
 * userinfo replaced, whether or not the rest of it parses. A URL without one is unchanged.
 */
export function redactUrl(url: string): string {
  const scheme = url.indexOf('://');
  if (scheme < 0) return url;
  const authorityEnd = url.slice(scheme + 3).search(/[\s]/);
  const rest = authorityEnd < 0 ? url.slice(scheme + 3) : url.slice(scheme + 3, scheme + 3 + authorityEnd);
  const at = rest.lastIndexOf('@');
  if (at < 0) return url;
  return `${url.slice(0, scheme + 3)}${REDACTED_USERINFO}${url.slice(scheme + 3 + at)}`;
}

/** `text` with the userinfo of every URL in it replaced (see {@link redactUrl}). */
export function redactUrlsIn(text: string): string {
  if (!text.includes('://')) return text;
  return text.replace(USERINFO_IN_TEXT, `$1${REDACTED_USERINFO}@`);
}

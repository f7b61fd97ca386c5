/**
 * `Content-Disposition: attachment` for a download named `filename` (RFC 6266): a
 * quoted ASCII fallback for old clients, with anything outside printable ASCII and the
 * quote and backslash replaced by `_`, and the exact name as RFC 8187 `filename*`.
 */
export function contentDisposition(filename: string): string {
  const fallback = filename.replace(/[^\x20-\x7e]|["\\]/g, '_');
  return `attachment; filename="${fallback}"; filename*=UTF-8''${encodeRfc8187(filename)}`;
}

/**
 * Percent-encodes all but RFC 8187's attr-char. `encodeURIComponent` leaves `'()*!` as
 * they are, and `'` is the delimiter of the `charset'lang'value` form.
 */
function encodeRfc8187(value: string): string {
  return encodeURIComponent(value).replace(/['()*!]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);
}

/** One entry of the `requests` stream: what the gateway served, never bodies or secrets. */
export interface RequestLogEntry {
  requestId: string;
  method: string;
  route: string;
  url: string;
  status: string;
  durationMs: string;
  userId: string;
  ip: string;
  userAgent: string;
  requestBytes: string;
  responseBytes: string;
  at: string;
}

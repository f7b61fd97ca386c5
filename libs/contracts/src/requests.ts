/** One entry of the `requests` stream: what the gateway served, never bodies or secrets. */
export interface RequestLogEntry {
  /**
   * The entry's own identity, made by the gateway (a UUID): the admin stores an entry once
   * under it, also when a replay re-adds it to the stream with a new stream id.
   */
  entryId: string;
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

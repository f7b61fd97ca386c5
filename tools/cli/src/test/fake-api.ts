import { createHash, randomUUID } from 'node:crypto';
import { once } from 'node:events';
import { createServer, type IncomingHttpHeaders, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type {
  CompleteUploadRequest,
  FileTarget,
  StartUploadRequest,
  ValidationIssue,
  ValidationStatus,
} from '@flotilla/contracts';

/**
 * A small stand-in for the Flotilla API and its object storage, on a local port: login,
 * upload start (single PUT targets, and multipart targets above `multipartThresholdBytes`,
 * all pointing back at this server), the PUTs themselves, complete, and a validation
 * status that is `running` (ETag "v1", Retry-After 0), then unchanged (304), then the
 * verdict. It records every request so tests can look at what arrived.
 */
export interface FakeApiOptions {
  email?: string;
  password?: string;
  multipartThresholdBytes?: number;
  partSizeBytes?: number;
  /** Status code to answer a PUT with instead of storing it (`attempt` counts from 1 per file or part). */
  failPut?: (put: { filename: string; partNumber?: number; attempt: number }) => number | undefined;
  /** Problem+json answered to upload/start instead of targets. */
  startProblem?: { status: number; title: string; detail?: string; errors?: { path: string; message: string }[] };
  verdict?: 'passed' | 'failed' | 'error';
  issues?: ValidationIssue[];
  /** Status codes answered to the first status polls, before the usual sequence. */
  statusFailures?: number[];
  /** The access token expires after this many authorised requests (a refresh gives a new one). */
  tokenUses?: number;
}

export interface RecordedPut {
  filename: string;
  fileId: string;
  partNumber?: number;
  headers: IncomingHttpHeaders;
  bytes: Buffer;
  status: number;
}

interface FakeFile {
  fileId: string;
  filename: string;
  contentType: string;
  sizeBytes: number;
  uploadId?: string;
  /** Each part's signed length, by part number. */
  partSizes?: Map<number, number>;
  attempts: Map<number, number>;
  stored: Map<number, Buffer>;
  etags: Map<number, string>;
}

const md5 = (bytes: Buffer): string => createHash('md5').update(bytes).digest('hex');

export class FakeApi {
  readonly logins: { email: string; password: string }[] = [];
  readonly refreshes: string[] = [];
  readonly starts: StartUploadRequest[] = [];
  readonly completes: CompleteUploadRequest[] = [];
  readonly puts: RecordedPut[] = [];
  readonly statusRequests: { ifNoneMatch?: string; authorization?: string; answered: number }[] = [];
  readonly unauthorised: string[] = [];
  datasetId = randomUUID();
  jobId = randomUUID();
  private files = new Map<string, FakeFile>();
  private token = 'access-1';
  private tokenUses = 0;
  private statusCalls = 0;
  private statusFailures: number[];
  private readonly server: Server;
  url = '';

  private constructor(private readonly options: FakeApiOptions) {
    this.statusFailures = [...(options.statusFailures ?? [])];
    this.server = createServer((req, res) => {
      this.handle(req, res).catch((error: unknown) => {
        res.statusCode = 500;
        res.end(String(error));
      });
    });
  }

  static async start(options: FakeApiOptions = {}): Promise<FakeApi> {
    const api = new FakeApi(options);
    api.server.listen(0, '127.0.0.1');
    await once(api.server, 'listening');
    api.url = `http://127.0.0.1:${(api.server.address() as AddressInfo).port}`;
    return api;
  }

  async close(): Promise<void> {
    this.server.closeAllConnections();
    this.server.close();
    await once(this.server, 'close');
  }

  /** The bytes stored for a file: the whole object, or its parts joined in order. */
  object(filename: string): Buffer | undefined {
    const file = [...this.files.values()].find((f) => f.filename === filename);
    if (!file) return undefined;
    const numbers = [...file.stored.keys()].sort((a, b) => a - b);
    return Buffer.concat(numbers.map((n) => file.stored.get(n)!));
  }

  /** The ETag answered for each stored part of a file. */
  etags(filename: string): Map<number, string> {
    return [...this.files.values()].find((f) => f.filename === filename)?.etags ?? new Map();
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', this.url);
    const body = await readBody(req);
    const route = `${req.method} ${url.pathname}`;

    if (url.pathname.startsWith('/storage/')) return this.put(req, res, url, body);

    if (route === 'POST /api/v1/auth/login') {
      const { email, password } = JSON.parse(body.toString()) as { email: string; password: string };
      this.logins.push({ email, password });
      if (email !== (this.options.email ?? 'ada@example.com') || password !== (this.options.password ?? 'correct horse battery')) {
        return problem(res, 401, 'Unauthorized', 'Wrong email or password.');
      }
      return json(res, 200, { accessToken: this.token, refreshToken: 'refresh-1', tokenType: 'Bearer', expiresIn: 900 });
    }
    if (route === 'POST /api/v1/auth/refresh') {
      const { refreshToken } = JSON.parse(body.toString()) as { refreshToken: string };
      this.refreshes.push(refreshToken);
      this.token = `access-${this.refreshes.length + 1}`;
      this.tokenUses = 0;
      return json(res, 200, { accessToken: this.token, refreshToken: `refresh-${this.refreshes.length + 1}`, tokenType: 'Bearer', expiresIn: 900 });
    }

    const limit = this.options.tokenUses;
    if (req.headers.authorization !== `Bearer ${this.token}` || (limit !== undefined && ++this.tokenUses > limit)) {
      this.unauthorised.push(route);
      return problem(res, 401, 'Unauthorized', 'The access token is missing, invalid or expired.');
    }

    if (route === 'POST /api/v1/upload/start') return this.startUpload(res, JSON.parse(body.toString()) as StartUploadRequest);
    if (route === 'POST /api/v1/upload/complete') {
      const request = JSON.parse(body.toString()) as CompleteUploadRequest;
      this.completes.push(request);
      if (request.datasetId !== this.datasetId) return problem(res, 404, 'Not Found', 'No such dataset.');
      return json(res, this.completes.length === 1 ? 202 : 200, { datasetId: this.datasetId, validationJobId: this.jobId, status: 'queued' });
    }
    if (route === `GET /api/v1/validation/${this.datasetId}/status`) return this.status(req, res);
    return problem(res, 404, 'Not Found', `No route ${route}.`);
  }

  private startUpload(res: ServerResponse, request: StartUploadRequest): void {
    this.starts.push(request);
    const p = this.options.startProblem;
    if (p) return problem(res, p.status, p.title, p.detail, p.errors);
    const threshold = this.options.multipartThresholdBytes ?? 64 * 1024;
    const partSize = this.options.partSizeBytes ?? 32 * 1024;
    const expiresAt = new Date(Date.now() + 3600_000).toISOString();
    const targets: FileTarget[] = request.files.map((f) => {
      const file: FakeFile = { fileId: randomUUID(), filename: f.filename, contentType: f.contentType, sizeBytes: f.sizeBytes, attempts: new Map(), stored: new Map(), etags: new Map() };
      this.files.set(file.fileId, file);
      if (f.sizeBytes > threshold) {
        file.uploadId = `upload-${file.fileId}`;
        const count = Math.ceil(f.sizeBytes / partSize);
        file.partSizes = new Map(Array.from({ length: count }, (_, i) => [i + 1, Math.min(partSize, f.sizeBytes - i * partSize)]));
        return {
          fileId: file.fileId,
          filename: f.filename,
          multipart: {
            uploadId: file.uploadId,
            partSizeBytes: partSize,
            parts: Array.from({ length: count }, (_, i) => ({
              partNumber: i + 1,
              sizeBytes: file.partSizes!.get(i + 1)!,
              uploadUrl: `${this.url}/storage/${file.fileId}?uploadId=${file.uploadId}&partNumber=${i + 1}&X-Amz-Signature=sig`,
            })),
          },
          expiresAt,
        };
      }
      return { fileId: file.fileId, filename: f.filename, method: 'PUT', uploadUrl: `${this.url}/storage/${file.fileId}?X-Amz-Signature=sig`, headers: { 'Content-Type': f.contentType }, expiresAt };
    });
    json(res, 201, { datasetId: this.datasetId, expiresIn: 3600, files: targets });
  }

  private put(req: IncomingMessage, res: ServerResponse, url: URL, bytes: Buffer): void {
    const file = this.files.get(url.pathname.slice('/storage/'.length));
    if (req.method !== 'PUT' || !file) return xmlError(res, 404, 'NoSuchKey', 'The specified key does not exist.');
    const partNumber = url.searchParams.has('partNumber') ? Number(url.searchParams.get('partNumber')) : undefined;
    const attempt = (file.attempts.get(partNumber ?? 0) ?? 0) + 1;
    file.attempts.set(partNumber ?? 0, attempt);
    const record = (status: number): void => {
      this.puts.push({ filename: file.filename, fileId: file.fileId, ...(partNumber !== undefined ? { partNumber } : {}), headers: req.headers, bytes, status });
    };
    const failWith = this.options.failPut?.({ filename: file.filename, ...(partNumber !== undefined ? { partNumber } : {}), attempt });
    if (failWith !== undefined) {
      record(failWith);
      return xmlError(res, failWith, 'InternalError', 'We encountered an internal error. Please try again.');
    }
    // What S3 checks of a presigned PUT: the signed length (of the object or the part) and, for a whole object, the signed type.
    if (req.headers['content-length'] !== String(bytes.length) || req.headers['transfer-encoding']) {
      record(411);
      return xmlError(res, 411, 'MissingContentLength', 'You must provide the Content-Length HTTP header.');
    }
    if (partNumber === undefined && (req.headers['content-length'] !== String(file.sizeBytes) || req.headers['content-type'] !== file.contentType)) {
      record(403);
      return xmlError(res, 403, 'SignatureDoesNotMatch', 'The request signature we calculated does not match the signature you provided.');
    }
    if (partNumber !== undefined && req.headers['content-length'] !== String(file.partSizes?.get(partNumber))) {
      record(403);
      return xmlError(res, 403, 'SignatureDoesNotMatch', 'The request signature we calculated does not match the signature you provided.');
    }
    record(200);
    const etag = `"${md5(bytes)}"`;
    file.stored.set(partNumber ?? 0, bytes);
    file.etags.set(partNumber ?? 0, etag);
    res.writeHead(200, { ETag: etag, 'content-length': '0' });
    res.end();
  }

  private status(req: IncomingMessage, res: ServerResponse): void {
    const ifNoneMatch = req.headers['if-none-match'];
    const entry: (typeof this.statusRequests)[number] = {
      ...(typeof ifNoneMatch === 'string' ? { ifNoneMatch } : {}),
      ...(req.headers.authorization ? { authorization: req.headers.authorization } : {}),
      answered: 0,
    };
    this.statusRequests.push(entry);
    const failure = this.statusFailures.shift();
    if (failure !== undefined) {
      entry.answered = failure;
      res.setHeader('Retry-After', '0');
      return problem(res, failure, 'Service Unavailable', 'The validator did not answer.');
    }
    this.statusCalls += 1;
    const finished = this.statusCalls >= 3;
    const etag = finished ? '"v2"' : '"v1"';
    res.setHeader('ETag', etag);
    if (!finished) res.setHeader('Retry-After', '0');
    if (ifNoneMatch === etag) {
      entry.answered = 304;
      res.writeHead(304);
      res.end();
      return;
    }
    entry.answered = 200;
    json(res, 200, this.validationStatus(finished));
  }

  private validationStatus(finished: boolean): ValidationStatus {
    const files = [...this.files.values()];
    const bytesTotal = files.reduce((sum, f) => sum + f.sizeBytes, 0);
    const verdict = this.options.verdict ?? 'passed';
    const issues = finished ? (this.options.issues ?? []) : [];
    return {
      datasetId: this.datasetId,
      jobId: this.jobId,
      status: finished ? verdict : 'running',
      progress: finished
        ? { filesTotal: files.length, filesChecked: files.length, bytesTotal, bytesChecked: bytesTotal, percent: 100 }
        : { filesTotal: files.length, filesChecked: 1, bytesTotal, bytesChecked: Math.floor(bytesTotal * 0.4), percent: 40 },
      queuedAt: new Date().toISOString(),
      startedAt: new Date().toISOString(),
      ...(finished ? { finishedAt: new Date().toISOString() } : {}),
      summary: { errors: issues.filter((i) => i.severity === 'error').length, warnings: issues.filter((i) => i.severity === 'warning').length },
      issues,
      ...(finished && verdict === 'error' ? { error: 'The validator could not read the objects.' } : {}),
    };
  }
}

async function readBody(req: IncomingMessage): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of req as AsyncIterable<Buffer>) chunks.push(chunk);
  return Buffer.concat(chunks);
}

function json(res: ServerResponse, status: number, body: unknown): void {
  res.writeHead(status, { 'content-type': 'application/json; charset=utf-8' });
  res.end(JSON.stringify(body));
}

function problem(res: ServerResponse, status: number, title: string, detail?: string, errors?: { path: string; message: string }[]): void {
  res.writeHead(status, { 'content-type': 'application/problem+json' });
  res.end(JSON.stringify({ type: 'about:blank', title, status, ...(detail ? { detail } : {}), instance: '/api/v1', ...(errors ? { errors } : {}) }));
}

function xmlError(res: ServerResponse, status: number, code: string, message: string): void {
  res.writeHead(status, { 'content-type': 'application/xml' });
  res.end(`<?xml version="1.0" encoding="UTF-8"?><Error><Code>${code}</Code><Message>${message}</Message></Error>`);
}

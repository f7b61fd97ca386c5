// The validation backlog: datasets uploaded and completed while the validator is away, so
// their jobs wait queued; then the validator alone works through them. Its throughput is
// set beside a raw S3 GET of the very objects it read, at the concurrency it reads with.
import { GetObjectCommand, ListObjectsV2Command } from '@aws-sdk/client-s3';
import { s3Client } from '../raw-limits.mjs';
import { latencySummary, mapLimit, MiB, sleep, unionLength } from '../stats.mjs';

const FINISHED = ['passed', 'failed', 'error'];

/** Start, PUT every file, and nothing more: the dataset waits for `complete`. */
async function uploadOnly(api, member, files, name) {
  const start = await api.request('POST', '/upload/start', {
    token: member.token,
    body: { datasetName: name, profile: 'xray', files: files.map((f) => ({ filename: f.filename, contentType: f.contentType, sizeBytes: f.content.length })) },
  });
  if (start.status !== 201) throw new Error(`start: ${start.status} ${JSON.stringify(start.body)}`);
  for (const target of start.body.files) {
    const file = files.find((f) => f.filename === target.filename);
    const put = await fetch(target.uploadUrl, { method: 'PUT', headers: target.headers, body: file.content });
    await put.arrayBuffer();
    if (put.status !== 200) throw new Error(`PUT ${file.filename}: ${put.status}`);
  }
  return start.body.datasetId;
}

async function status(api, token, datasetId) {
  const res = await api.request('GET', `/validation/${datasetId}/status`, { token });
  return res.status === 200 && FINISHED.includes(res.body.status) ? res.body : undefined;
}

/**
 * Waits for every verdict with one request open at a time: the datasets are watched in
 * queue order, each until it has finished, 250 ms between looks. The measured figure comes
 * from the jobs' own startedAt–finishedAt, so how often they are looked at does not change
 * it; but a request per dataset every 500 ms (192/s for 96 datasets) made the gateway and
 * the validator's status RPCs share the two cores with the work being measured, which the
 * raw GET beside it never had to. Once all have finished each verdict is read once.
 */
async function awaitVerdicts(api, members, ids, deadline) {
  for (let i = 0; i < ids.length; ) {
    if (await status(api, members[i].token, ids[i])) i++;
    else if (Date.now() > deadline) throw new Error(`${ids[i]}: not finished in time`);
    else await sleep(250);
  }
  const drained = performance.now();
  const all = [];
  for (const [i, id] of ids.entries()) {
    const verdict = await status(api, members[i].token, id);
    if (!verdict) throw new Error(`${id}: finished, then not finished`);
    all.push(verdict);
  }
  return { all, drained };
}

/** GETs every object under `prefix` with `concurrency` requests open, reading each body whole. */
async function rawGet(endpoint, bucket, prefix, concurrency) {
  const s3 = s3Client(endpoint);
  try {
    const keys = [];
    let token;
    do {
      const page = await s3.send(new ListObjectsV2Command({ Bucket: bucket, Prefix: prefix, ContinuationToken: token }));
      keys.push(...(page.Contents ?? []).map((o) => o.Key));
      token = page.NextContinuationToken;
    } while (token);
    let bytes = 0;
    const started = performance.now();
    await mapLimit(keys, concurrency, async (key) => {
      const res = await s3.send(new GetObjectCommand({ Bucket: bucket, Key: key }));
      for await (const chunk of res.Body) bytes += chunk.length;
    });
    const seconds = (performance.now() - started) / 1000;
    return { objects: keys.length, bytes, concurrency, getBytesPerSecond: bytes / seconds, getMiBps: bytes / MiB / seconds };
  } finally {
    s3.destroy();
  }
}

/**
 * `members.length` datasets (one per team) uploaded and completed with the validator
 * stopped; the validator is started again and the time it is busy (the union of its jobs'
 * startedAt–finishedAt) measures its bytes/s. The raw figure GETs the same objects with
 * `concurrency` requests open (jobs × files per job, as the validator reads).
 */
export async function validationBacklog(platform, { members, files, concurrency }) {
  await platform.stopService('validator');
  let ids;
  try {
    ids = await Promise.all(members.map((m, i) => uploadOnly(platform.api, m, files, `backlog-${i}`)));
    const completed = await Promise.all(ids.map((datasetId, i) => platform.api.request('POST', '/upload/complete', { token: members[i].token, body: { datasetId } })));
    const refused = completed.filter((c) => c.status !== 202);
    if (refused.length) throw new Error(`complete: ${refused.length} refused, e.g. ${refused[0].status} ${JSON.stringify(refused[0].body)}`);
  } finally {
    const validator = platform.service('validator');
    await validator.start(120_000);
    await platform.waitReady(validator);
  }
  const restarted = performance.now();
  const deadline = Date.now() + 15 * 60_000;
  const { all: verdicts, drained } = await awaitVerdicts(platform.api, members, ids, deadline);
  const drainSeconds = (drained - restarted) / 1000;
  const bytesChecked = verdicts.reduce((sum, v) => sum + v.progress.bytesChecked, 0);
  const busySeconds = unionLength(verdicts.map((v) => [Date.parse(v.startedAt), Date.parse(v.finishedAt)])) / 1000;
  const raw = await rawGet(platform.s3.endpoint, platform.bucket, 'datasets/', concurrency);
  return {
    datasets: ids.length,
    passed: verdicts.filter((v) => v.status === 'passed').length,
    bytesChecked,
    busySeconds,
    drainSeconds,
    validatorBytesPerSecond: bytesChecked / busySeconds,
    validatorMiBps: bytesChecked / MiB / busySeconds,
    jobRunMs: latencySummary(verdicts.map((v) => Date.parse(v.finishedAt) - Date.parse(v.startedAt))),
    raw,
  };
}

// The upload flow: N teams at once, each as a client would — start, PUT every file to
// its presigned URL, complete, poll the status with the Retry-After it is given.
import { createHash } from 'node:crypto';
import { dicom, jpeg, metaImage, metaImageData, metaImageHeader, nifti, png } from '@flotilla/samples';
import { meansBetween, scrape } from '../metrics.mjs';
import { latencySummary, MiB, sleep, unionLength } from '../stats.mjs';

const FINISHED = ['passed', 'failed', 'error'];
/** The services' histograms read around the flow: each RPC as the gateway saw it, and each handler's own time. */
const HISTOGRAMS = [
  ['gateway', 'rpc_duration_seconds'],
  ['upload', 'rpc_server_duration_seconds'],
  ['validator', 'rpc_server_duration_seconds'],
  ['validator', 'validation_duration_seconds'],
];

/**
 * A valid `xray` dataset of real image files (every format the profile reads) and its
 * manifest with checksums, about 1.2 MiB in all, so that the validator's bytes matter.
 */
export function xrayDataset() {
  const images = [
    ['scan-001.png', 'image/png', png({ width: 1024, height: 768, seed: 1 }), 'P001', 'train', 'normal'],
    ['scan-002.jpg', 'image/jpeg', jpeg({ width: 1024, height: 768, seed: 2 }), 'P001', 'train', 'abnormal'],
    ['scan-003.dcm', 'application/dicom', dicom({ rows: 1024, columns: 512, seed: 3 }), 'P002', 'train', 'normal'],
    ['scan-004.mha', 'application/octet-stream', metaImage({ width: 256, height: 256, seed: 4 }), 'P003', 'val', 'abnormal'],
    ['scan-005.nii', 'application/octet-stream', nifti({ x: 256, y: 256, z: 8, seed: 5 }), 'P004', 'test', 'normal'],
    ['scan-006.mhd', 'text/plain', metaImageHeader({ width: 256, height: 256, dataFile: 'scan-006.raw' }), 'P004', 'test', 'abnormal'],
    ['scan-006.raw', 'application/octet-stream', metaImageData({ width: 256, height: 256, seed: 6 }), undefined],
  ];
  const files = images.map(([filename, contentType, content]) => ({ filename, contentType, content }));
  const rows = images
    .filter((i) => i[3])
    .map(([filename, , content, patient, split, label]) => [filename, label, createHash('sha256').update(content).digest('hex'), patient, split].join(','));
  files.push({ filename: 'manifest.csv', contentType: 'text/csv', content: Buffer.from(`filename,label,sha256,patient_id,split\r\n${rows.join('\r\n')}\r\n`) });
  return files;
}

/** One team's whole flow; never throws: failures are counted in `errors` with the step. */
async function teamFlow(api, member, files, index) {
  const started = performance.now();
  const result = { team: index, errors: [], polls: 0 };
  try {
    const start = await api.request('POST', '/upload/start', {
      token: member.token,
      body: { datasetName: `bench-${index}`, profile: 'xray', files: files.map((f) => ({ filename: f.filename, contentType: f.contentType, sizeBytes: f.content.length })) },
    });
    if (start.status !== 201) throw new Error(`start: ${start.status} ${JSON.stringify(start.body)}`);
    result.datasetId = start.body.datasetId;
    for (const target of start.body.files) {
      const file = files.find((f) => f.filename === target.filename);
      const put = await fetch(target.uploadUrl, { method: 'PUT', headers: target.headers, body: file.content });
      await put.arrayBuffer();
      if (put.status !== 200) throw new Error(`PUT ${file.filename}: ${put.status}`);
    }
    const complete = await api.request('POST', '/upload/complete', { token: member.token, body: { datasetId: result.datasetId } });
    if (complete.status !== 202) throw new Error(`complete: ${complete.status} ${JSON.stringify(complete.body)}`);
    for (;;) {
      const status = await api.request('GET', `/validation/${result.datasetId}/status`, { token: member.token });
      result.polls++;
      if (status.status !== 200) throw new Error(`status: ${status.status} ${JSON.stringify(status.body)}`);
      if (FINISHED.includes(status.body.status)) {
        result.status = status.body;
        if (status.body.status !== 'passed') throw new Error(`verdict ${status.body.status}: ${JSON.stringify(status.body.issues.slice(0, 3))}`);
        break;
      }
      if (performance.now() - started > 15 * 60_000) throw new Error('not finished after 15 minutes');
      await sleep(Number(status.headers.get('retry-after') ?? '1') * 1000);
    }
  } catch (error) {
    result.errors.push(error.message);
  }
  result.ms = performance.now() - started;
  return result;
}

/**
 * `members.length` teams run the flow at once. Validator throughput is the bytes it
 * checked over the time at least one job was running (from the jobs' own startedAt and
 * finishedAt), so waiting for uploads is not counted against it.
 */
export async function uploadFlow(platform, { members, files }) {
  const before = await scrape(platform, HISTOGRAMS);
  const started = performance.now();
  const results = await Promise.all(members.map((m, i) => teamFlow(platform.api, m, files, i)));
  const wallSeconds = (performance.now() - started) / 1000;
  const breakdown = Object.fromEntries(Object.entries(meansBetween(before, await scrape(platform, HISTOGRAMS))).filter(([, v]) => v.count >= members.length / 2));
  const finished = results.filter((r) => r.status);
  const bytesChecked = finished.reduce((sum, r) => sum + r.status.progress.bytesChecked, 0);
  const busyMs = unionLength(finished.map((r) => [Date.parse(r.status.startedAt), Date.parse(r.status.finishedAt)]));
  const jobMs = finished.map((r) => Date.parse(r.status.finishedAt) - Date.parse(r.status.startedAt));
  const errors = results.flatMap((r) => r.errors.map((e) => `team ${r.team}: ${e}`));
  return {
    teams: members.length,
    datasetBytes: files.reduce((sum, f) => sum + f.content.length, 0),
    wallSeconds,
    errors: errors.length,
    errorSamples: errors.slice(0, 5),
    passed: finished.filter((r) => r.status.status === 'passed').length,
    startToFinished: latencySummary(results.filter((r) => r.errors.length === 0).map((r) => r.ms)),
    validatorBusySeconds: busyMs / 1000,
    validatorBytesPerSecond: busyMs > 0 ? bytesChecked / (busyMs / 1000) : Number.NaN,
    validatorMiBps: busyMs > 0 ? bytesChecked / MiB / (busyMs / 1000) : Number.NaN,
    jobRunMs: latencySummary(jobMs),
    statusPolls: results.reduce((sum, r) => sum + r.polls, 0),
    breakdown,
    datasetIds: finished.map((r) => ({ datasetId: r.datasetId, token: members[r.team].token })),
  };
}

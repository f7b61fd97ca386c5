/* global __ENV, __VU, __ITER */
// One iteration of each scenario, shared by the scripts: a vote, a team's whole upload
// flow, a status poll, a freshness probe. Every step is checked.
import http from 'k6/http';
import { check, sleep } from 'k6';
import { Counter, Trend } from 'k6/metrics';
import { dropToken, get, params, post, tokenFor } from './api.js';
import { API, int } from './config.js';
import { xrayDataset } from './files.js';

export const uploadStartToFinished = new Trend('upload_start_to_finished', true);
export const uploadsPassed = new Counter('uploads_passed');
export const voteFreshness = new Trend('vote_freshness', true);

const FINISHED = ['passed', 'failed', 'error'];

/** Authenticated `POST /polls/{pollId}/votes` by one of `voters`, for one of `options`. */
export function vote(voters, pollId, options) {
  const member = voters[(__VU * 7919 + __ITER) % voters.length];
  const token = tokenFor(member);
  if (!token) return;
  const option = options[(__VU + __ITER) % options.length];
  const res = post(`/polls/${pollId}/votes`, { option }, token, 'vote');
  if (res.status === 401) dropToken(member);
  check(res, { 'vote: 202': (r) => r.status === 202 });
}

/**
 * One team's dataset: start with `images` PNG files and a manifest, PUT each file to its
 * presigned URL, complete, then poll the status, waiting the Retry-After it gives, until
 * the job is finished; the verdict must be `passed`. Records the time from start to the
 * finished status. Deletes the dataset afterwards unless `keep` or KEEP_DATASETS is set.
 */
export function uploadFlow(member, images, seed, keep) {
  const token = tokenFor(member);
  if (!token) return undefined;
  const files = xrayDataset(images, seed);
  const started = Date.now();
  const start = post(
    '/upload/start',
    {
      datasetName: `k6 dataset ${seed}`,
      profile: 'xray',
      files: files.map((f) => ({ filename: f.filename, contentType: f.contentType, sizeBytes: f.sizeBytes, sha256: f.sha256 })),
    },
    token,
    'upload-start',
  );
  if (!check(start, { 'upload start: 201': (r) => r.status === 201 })) return undefined;
  const datasetId = start.json('datasetId');
  const targets = start.json('files');

  for (const target of targets) {
    const file = files.find((f) => f.filename === target.filename);
    const isSinglePut = check(target, { 'upload start: one presigned PUT per file': (t) => !!t.uploadUrl && !t.multipart });
    if (!file || !isSinglePut) return datasetId;
    const put = http.put(target.uploadUrl, file.body, { headers: target.headers || {}, tags: { name: 'upload-put' } });
    if (!check(put, { 'PUT object: 200': (r) => r.status === 200 })) return datasetId;
  }

  const complete = post('/upload/complete', { datasetId }, token, 'upload-complete');
  if (!check(complete, { 'upload complete: 202': (r) => r.status === 202 })) return datasetId;

  const deadline = started + int('UPLOAD_TIMEOUT_SECONDS', 600) * 1000;
  for (;;) {
    const status = get(`/validation/${datasetId}/status`, tokenFor(member), 'status');
    if (!check(status, { 'status: 200': (r) => r.status === 200 })) return datasetId;
    const body = status.json();
    if (FINISHED.indexOf(body.status) >= 0) {
      uploadStartToFinished.add(Date.now() - started);
      if (check(body, { 'validation: passed': (b) => b.status === 'passed' })) uploadsPassed.add(1);
      break;
    }
    if (!check(status, { 'status: finished within UPLOAD_TIMEOUT_SECONDS': () => Date.now() < deadline })) return datasetId;
    sleep(Number(status.headers['Retry-After'] || 1));
  }
  if (!keep && !__ENV.KEEP_DATASETS) {
    const del = http.del(`${API}/datasets/${datasetId}`, null, params(tokenFor(member), 'dataset-delete'));
    check(del, { 'dataset deleted: 204': (r) => r.status === 204 });
  }
  return datasetId;
}

// Per VU: the last ETag seen per dataset, sent back as a polling client does.
const etags = {};

/** `GET /validation/{id}/status` with If-None-Match once an ETag is known: 200 or 304. */
export function pollStatus(member, datasetId) {
  const token = tokenFor(member);
  if (!token) return;
  const extra = etags[datasetId] ? { 'If-None-Match': etags[datasetId] } : {};
  const p = params(token, 'status');
  Object.assign(p.headers, extra);
  const res = http.get(`${API}/validation/${datasetId}/status`, p);
  if (res.status === 200 && res.headers.Etag) etags[datasetId] = res.headers.Etag;
  check(res, { 'status poll: 200 or 304': (r) => r.status === 200 || r.status === 304 });
}

/**
 * Flips `member`'s vote on `pollId` (options `a` and `b`) and reads the results until they
 * show it: the time from the 202 to the results reflecting the vote.
 */
export function freshnessProbe(member, pollId) {
  const token = tokenFor(member);
  if (!token) return;
  const option = __ITER % 2 === 0 ? 'a' : 'b';
  const res = post(`/polls/${pollId}/votes`, { option }, token, 'probe-vote');
  if (!check(res, { 'probe vote: 202': (r) => r.status === 202 })) return;
  const accepted = Date.now();
  for (;;) {
    const results = get(`/polls/${pollId}/results`, token, 'results');
    if (!check(results, { 'results: 200': (r) => r.status === 200 })) return;
    const counted = (results.json('options') || []).filter((o) => o.option === option && o.count === 1).length === 1;
    if (counted) {
      voteFreshness.add(Date.now() - accepted);
      return;
    }
    if (!check(results, { 'results: reflect the vote within 10 s': () => Date.now() - accepted < 10000 })) return;
    sleep(0.01);
  }
}

/** Creates a poll (as an administrator) with the given options; its id. */
export function createPoll(adminToken, id, options) {
  const res = post('/polls', { id, question: `k6 ${id}`, options }, adminToken, 'create-poll');
  check(res, { 'setup: poll created (201)': (r) => r.status === 201 });
  return id;
}

import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import pg from 'pg';
import { Naming } from '@flotilla/config';
import { jpeg, png, pngWithTruncatedHeader } from '@flotilla/samples';
import { TEST_DATABASE_URL, waitFor } from '@flotilla/testing';
import { ADMIN, Platform } from '../support/platform.js';
import { distinctCodes, putFiles, sha256, startUpload, uploadAndValidate, waitForVerdict, type LocalFile } from '../support/datasets.js';
import { RecordingPlatform } from '../security/support/recording-platform.js';
import { teamWithMember, type Member } from '../security/support/fixtures.js';

const problemType = 'application/problem+json';
const image = (filename: string, seed = 1): LocalFile => ({ filename, contentType: 'image/png', content: png({ width: 64 + seed, height: 64 }) });
const manifest = (rows: string[], header = 'filename,label'): LocalFile => ({ filename: 'manifest.csv', contentType: 'text/csv', content: Buffer.from(`${header}\n${rows.join('\n')}\n`) });

/** RELIABILITY.md's bad input beyond the fuzzer: lying uploads, hostile filenames and manifests, hostile store names and versions. */
describe('hostile input: uploads and stores', () => {
  const platform: Platform = new RecordingPlatform({ RATE_LIMIT_PER_USER: '100000', SIMULATED_POD_START_MS: '50', SIMULATED_POD_READY_MS: '50' }, ['gateway', 'upload', 'validator', 'provisioner']);
  let alpha: Member;
  let beta: Member;
  let db: pg.Client;

  beforeAll(async () => {
    await platform.start();
    const admin = await platform.api.login(ADMIN.email, ADMIN.password);
    alpha = await teamWithMember(platform.api, admin, 'honest');
    beta = await teamWithMember(platform.api, admin, 'hostile');
    db = new pg.Client({ connectionString: TEST_DATABASE_URL });
    await db.connect();
  }, 120_000);

  afterAll(async () => {
    await db?.end();
    await platform.stop();
  });

  describe('uploads', () => {
    it('catches checksum lies, at start and in the manifest', async () => {
      const a = image('a.png', 1);
      const b = image('b.png', 2);
      // The declared SHA-256 is another file's.
      const res = await platform.api.request('POST', '/api/v1/upload/start', {
        token: beta.token,
        body: { datasetName: 'declared-lie', profile: 'xray', files: [{ filename: 'a.png', contentType: 'image/png', sizeBytes: a.content.length, sha256: sha256(b.content) }, { filename: 'manifest.csv', contentType: 'text/csv', sizeBytes: manifest(['a.png,normal']).content.length }] },
      });
      expect(res.status).toBe(201);
      const declared = res.body as unknown as Parameters<typeof putFiles>[0];
      await putFiles(declared, [a, manifest(['a.png,normal'])]);
      expect((await platform.api.request('POST', '/api/v1/upload/complete', { token: beta.token, body: { datasetId: declared.datasetId } })).status).toBe(202);
      const startVerdict = await waitForVerdict(platform.api, beta.token, declared.datasetId);
      const { verdict: manifestVerdict } = await uploadAndValidate(platform.api, beta.token, 'manifest-lie', 'xray', [a, manifest([`a.png,normal,${sha256(b.content)}`], 'filename,label,sha256')]);
      expect([startVerdict.status, distinctCodes(startVerdict)]).toEqual(['failed', ['checksum_mismatch']]);
      expect([manifestVerdict.status, distinctCodes(manifestVerdict)]).toEqual(['failed', ['checksum_mismatch']]);
      console.log(`checksum lies: declared at start → ${startVerdict.status} ${distinctCodes(startVerdict)}; in the manifest → ${manifestVerdict.status} ${distinctCodes(manifestVerdict)}`);
    });

    it('refuses to complete when the uploaded sizes differ from the declared ones, naming the files', async () => {
      const files = [image('short.png', 3), image('long.png', 4), image('right.png', 5)];
      const start = await startUpload(platform.api, beta.token, 'sizes', 'xray', files);
      // The embedded S3 does not enforce the signed length (real S3 would refuse these PUTs).
      const put = async (name: string, body: Buffer): Promise<void> => {
        const target = start.files.find((f) => f.filename === name)!;
        await fetch(target.uploadUrl!, { method: 'PUT', headers: target.headers, body });
      };
      await put('short.png', files[0]!.content.subarray(0, 10));
      await put('long.png', Buffer.concat([files[1]!.content, Buffer.alloc(100)]));
      await put('right.png', files[2]!.content);
      const res = await platform.api.request<{ errors: { path: string }[] }>('POST', '/api/v1/upload/complete', { token: beta.token, body: { datasetId: start.datasetId } });
      expect([res.status, res.headers.get('content-type')]).toEqual([422, expect.stringContaining(problemType)]);
      expect(res.body.errors.map((e) => e.path).sort()).toEqual(['long.png', 'short.png']);
      console.log(`wrong sizes: complete → ${res.status} naming ${res.body.errors.map((e) => e.path).join(', ')}`);
    });

    it('finds truncated and disguised images', async () => {
      const truncatedPng = { filename: 'cut.png', contentType: 'image/png', content: pngWithTruncatedHeader() };
      const shortPng = { filename: 'stub.png', contentType: 'image/png', content: png({ width: 64, height: 64 }).subarray(0, 12) };
      const disguised = { filename: 'photo.png', contentType: 'image/png', content: jpeg({ width: 64, height: 64 }) };
      const text = { filename: 'notes.png', contentType: 'image/png', content: Buffer.from('#!/bin/sh\nrm -rf /\n') };
      const files = [truncatedPng, shortPng, disguised, text];
      const { verdict } = await uploadAndValidate(platform.api, beta.token, 'broken-images', 'xray', [...files, manifest(files.map((f) => `${f.filename},normal`))]);
      const byFile = Object.fromEntries(files.map((f) => [f.filename, [...new Set(verdict.issues.filter((i) => i.file === f.filename).map((i) => i.code))].sort()]));
      expect(verdict.status).toBe('failed');
      expect(byFile['cut.png']).toContain('corrupt_image');
      expect(byFile['stub.png']!.some((c) => ['corrupt_image', 'unsupported_format'].includes(c))).toBe(true);
      expect(byFile['photo.png']).toContain('format_mismatch');
      expect(byFile['notes.png']).toContain('unsupported_format');
      console.log(`truncated and disguised images: ${verdict.status}, ${JSON.stringify(byFile)}`);
    });

    it("does not let a manifest reach another team's files, nor tell that the same bytes exist elsewhere", async () => {
      const secret = image('secret.png', 9);
      const owned = await uploadAndValidate(platform.api, alpha.token, 'private', 'xray', [secret, manifest(['secret.png,abnormal'])]);
      const ownedDetail = await platform.api.request<{ files: { id: string; filename: string }[] }>('GET', `/api/v1/datasets/${owned.datasetId}`, { token: alpha.token });
      const secretFile = ownedDetail.body.files.find((f) => f.filename === 'secret.png')!;
      const names = ['secret.png', `datasets/${owned.datasetId}/${secretFile.id}/secret.png`, `../../${owned.datasetId}/${secretFile.id}/secret.png`, `/${owned.datasetId}/secret.png`];
      const mine = image('mine.png', 10);
      const { datasetId, verdict } = await uploadAndValidate(platform.api, beta.token, 'reaching', 'xray', [mine, manifest(['mine.png,normal', ...names.map((n) => `${n},abnormal`)])]);
      const missing = verdict.issues.filter((i) => i.code === 'missing_file');
      expect(verdict.status).toBe('failed');
      expect(missing).toHaveLength(names.length);
      // Only beta's own two objects were read; nothing of alpha's content shows.
      const betaManifest = manifest(['mine.png,normal', ...names.map((n) => `${n},abnormal`)]);
      expect(verdict.progress).toMatchObject({ filesTotal: 2, bytesTotal: mine.content.length + betaManifest.content.length });
      expect(JSON.stringify(verdict)).not.toContain(sha256(secret.content));
      expect(verdict.issues.every((i) => i.code === 'missing_file' || !names.some((n) => i.message.includes(n)))).toBe(true);
      // The same bytes as alpha's secret, uploaded by beta: nothing points at alpha's dataset.
      const twin = await uploadAndValidate(platform.api, beta.token, 'twin', 'xray', [{ ...secret, filename: 'guess.png' }, manifest(['guess.png,normal'])]);
      const twinDetail = await waitFor(
        async () => {
          const res = await platform.api.request<{ files: { filename: string; sha256: string | null; sameContentAs: { datasetId: string }[] }[] }>('GET', `/api/v1/datasets/${twin.datasetId}`, { token: beta.token });
          const file = res.body.files.find((f) => f.filename === 'guess.png');
          return file?.sha256 ? file : undefined;
        },
        { what: "the twin's content address" },
      );
      expect(twinDetail.sameContentAs.map((s) => s.datasetId)).not.toContain(owned.datasetId);
      console.log(`manifest naming other teams' files: ${names.length} rows → ${missing.length} missing_file, nothing of alpha's in the report; same bytes in beta's dataset → sameContentAs ${JSON.stringify(twinDetail.sameContentAs)} (dataset ${datasetId})`);
    });

    it('refuses filenames with traversal, separators, control characters or over 255 bytes before anything is signed', async () => {
      const hostile = ['../x.png', '..\\x.png', 'a/b.png', 'a\\b.png', '..', '/etc/passwd', 'C:\\x.png', 'x\u0000.png', 'x\u001b[31m.png', 'x\u007f.png', 'x\r\n.png', 'x\t.png', `${'é'.repeat(128)}.png`, `${'a'.repeat(252)}.png.png`];
      const before = await platform.api.request<{ items: unknown[] }>('GET', '/api/v1/datasets?limit=200', { token: beta.token });
      const answers: string[] = [];
      for (const filename of hostile) {
        const res = await platform.api.request<{ errors?: { path: string }[] }>('POST', '/api/v1/upload/start', {
          token: beta.token,
          body: { datasetName: 'hostile-names', profile: 'xray', files: [{ filename, contentType: 'image/png', sizeBytes: 10 }] },
        });
        answers.push(`${JSON.stringify(filename).slice(0, 24)}→${res.status}`);
        // A NUL never gets past the edge (400, naming the field); the rest the upload service refuses (422).
        expect([filename, res.status, res.headers.get('content-type')]).toEqual([filename, filename.includes('\u0000') ? 400 : 422, expect.stringContaining(problemType)]);
        expect(JSON.stringify(res.body)).not.toContain('X-Amz-Signature');
      }
      const after = await platform.api.request<{ items: unknown[] }>('GET', '/api/v1/datasets?limit=200', { token: beta.token });
      expect(after.body.items).toHaveLength(before.body.items.length);
      console.log(`hostile filenames: ${hostile.length} sent, all refused (NUL 400 at the edge, the rest 422), no dataset made: ${answers.join(' ')}`);
    });
  });

  describe('stores', () => {
    const schema = () => new Naming(platform.namespace).schema('provisioner');

    it('refuses hostile names and versions before they reach the cluster driver', async () => {
      const names = ['store-../x', '../x', 'a'.repeat(41), 'a'.repeat(63), 'a'.repeat(64), 'UPPER', 'Shop', 'a;rm -rf /', '$(id)', '`id`', 'a b', 'a|b', 'a&&b', '-lead', 'trail-', 'x', 'a_b', 'a.b', 'ünï', '', 'a\nb', '--set=x', 'a\u0000b'];
      const statuses: number[] = [];
      for (const name of names) {
        const res = await platform.api.request('POST', '/api/v1/stores', { token: beta.token, body: { name, template: 'wordpress' } });
        statuses.push(res.status);
        expect([name, res.status, res.headers.get('content-type')]).toEqual([name, name.includes('\u0000') ? 400 : 422, expect.stringContaining(problemType)]);
      }
      const created = await platform.api.request<{ id: string }>('POST', '/api/v1/stores', { token: beta.token, body: { name: 'fine-shop', template: 'wordpress' } });
      expect(created.status).toBe(202);
      const id = created.body.id;
      await waitFor(async () => ((await platform.api.request<{ status: string }>('GET', `/api/v1/stores/${id}`, { token: beta.token })).body.status === 'ready' ? true : undefined), { what: 'the store' });
      const versions = ['6.6; rm -rf /', '$(id)', '--set image.tag=x', '../../x', 'a'.repeat(64), '6.6\n', ' 6.6', '-6.6', '6.6 --dry-run'];
      for (const version of versions) {
        const res = await platform.api.request('PATCH', `/api/v1/stores/${id}`, { token: beta.token, body: { version } });
        statuses.push(res.status);
        expect([version, res.status]).toEqual([version, 422]);
      }
      for (const steps of [[0], [101], [50, 10], [-5, 100]]) {
        const res = await platform.api.request('PATCH', `/api/v1/stores/${id}`, { token: beta.token, body: { version: '6.7', rollout: { strategy: 'Canary', steps } } });
        statuses.push(res.status);
        expect([steps, res.status]).toEqual([steps, 422]);
      }
      const stores = await db.query<{ name: string }>(`SELECT name FROM "${schema()}".stores`);
      const revisions = await db.query<{ version: string }>(`SELECT version FROM "${schema()}".revisions`);
      expect(stores.rows.map((r) => r.name)).toEqual(['fine-shop']);
      expect(revisions.rows.map((r) => r.version)).toEqual([expect.stringMatching(/^[A-Za-z0-9][A-Za-z0-9._-]*$/)]);
      const output = (platform as RecordingPlatform).recorded('provisioner').allOutput();
      const leaked = [...names, ...versions].filter((v) => v.length > 3 && /[^a-z0-9-]/.test(v) && output.includes(v));
      expect(leaked).toEqual([]);
      console.log(
        `hostile stores: ${names.length} names, ${versions.length} versions, 4 canary step lists → ${statuses.filter((s) => s === 422).length} × 422 of ${statuses.length}; ` +
          `the provisioner's tables hold only ${JSON.stringify(stores.rows.map((r) => r.name))} at ${JSON.stringify(revisions.rows.map((r) => r.version))}; none in its output`,
      );
    });
  });
});

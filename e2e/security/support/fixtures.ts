import { png } from '@flotilla/samples';
import { waitFor } from '@flotilla/testing';
import type { ApiClient } from '../../support/platform.js';
import { uploadAndValidate } from '../../support/datasets.js';

export const MEMBER_PASSWORD = 'member-password-123';

export interface Member {
  teamId: string;
  userId: string;
  email: string;
  token: string;
  refreshToken: string;
}

/** A team with one member, logged in. */
export async function teamWithMember(api: ApiClient, adminToken: string, team: string): Promise<Member> {
  const created = await api.request<{ id: string }>('POST', '/api/v1/admin/teams', { token: adminToken, body: { name: team } });
  if (created.status !== 201) throw new Error(`team ${team}: ${created.status} ${JSON.stringify(created.body)}`);
  const email = `${team}@security.test`;
  const user = await api.request<{ id: string }>('POST', '/api/v1/admin/users', {
    token: adminToken,
    body: { email, password: MEMBER_PASSWORD, teamId: created.body.id, role: 'member' },
  });
  if (user.status !== 201) throw new Error(`user ${email}: ${user.status} ${JSON.stringify(user.body)}`);
  const login = await api.request<{ accessToken: string; refreshToken: string }>('POST', '/api/v1/auth/login', { body: { email, password: MEMBER_PASSWORD } });
  if (login.status !== 200) throw new Error(`login ${email}: ${login.status}`);
  return { teamId: created.body.id, userId: user.body.id, email, token: login.body.accessToken, refreshToken: login.body.refreshToken };
}

export interface TeamResources {
  datasetId: string;
  fileId: string;
  jobId: string;
  storeId?: string;
}

/** A validated dataset (one image, so the job fails for want of a manifest) and, when asked, a store. */
export async function teamResources(api: ApiClient, member: Member, { store = false, name = 'owned' } = {}): Promise<TeamResources> {
  const { datasetId, verdict } = await uploadAndValidate(api, member.token, `${name}-data`, 'xray', [
    { filename: 'scan.png', contentType: 'image/png', content: png({ width: 64, height: 64 }) },
  ]);
  const detail = await api.request<{ files: { id: string }[] }>('GET', `/api/v1/datasets/${datasetId}`, { token: member.token });
  const resources: TeamResources = { datasetId, fileId: detail.body.files[0]!.id, jobId: verdict.jobId };
  if (store) {
    const created = await api.request<{ id: string }>('POST', '/api/v1/stores', { token: member.token, body: { name: `${name}-shop`, template: 'wordpress' } });
    if (created.status !== 202) throw new Error(`store: ${created.status} ${JSON.stringify(created.body)}`);
    resources.storeId = created.body.id;
    await waitFor(
      async () => ((await api.request<{ status: string }>('GET', `/api/v1/stores/${created.body.id}`, { token: member.token })).body.status === 'ready' ? true : undefined),
      { what: 'the store to be ready', timeoutMs: 30_000 },
    );
  }
  return resources;
}

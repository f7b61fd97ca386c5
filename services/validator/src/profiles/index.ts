import type { DatasetProfile } from '@flotilla/contracts';
import type { Profile } from './profile.js';
import { teamsJsonProfile } from './teams-json.profile.js';
import { xrayProfile } from './xray.profile.js';

export { BODY_LIMIT_BYTES, DEFAULT_PROFILE_OPTIONS, HEAD_BYTES, type FileFacts, type Profile, type ProfileOptions } from './profile.js';
export { factsOf } from './facts.js';
export { DEFAULT_ISSUE_CAPS, IssueList, type IssueCaps } from './issue-list.js';

const PROFILES: Record<DatasetProfile, Profile> = {
  xray: xrayProfile,
  'teams-json': teamsJsonProfile,
};

/** The rules of a dataset profile. */
export function profileFor(name: DatasetProfile): Profile {
  const profile = PROFILES[name];
  if (!profile) throw new Error(`unknown dataset profile "${name}"`);
  return profile;
}

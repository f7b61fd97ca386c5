import { describe, expect, it } from '@jest/globals';
import { sampleDatasets } from '@flotilla/samples';
import { DEFAULT_PROFILE_OPTIONS, factsOf, profileFor } from './index.js';

describe('sample datasets', () => {
  for (const dataset of sampleDatasets()) {
    it(`${dataset.name}: ${dataset.expectedStatus} with ${dataset.expectedCodes.join(', ') || 'no issue'}`, () => {
      const profile = profileFor(dataset.profile);
      const facts = dataset.files.map((file) => factsOf(profile, file));
      const issues = profile.validate(facts, { ...DEFAULT_PROFILE_OPTIONS, ...dataset.options });

      const codes = [...new Set(issues.map((i) => i.code))].sort();
      expect(codes).toEqual(dataset.expectedCodes);
      const status = issues.some((i) => i.severity === 'error') ? 'failed' : 'passed';
      expect(status).toBe(dataset.expectedStatus);
      if (dataset.expectedStatus === 'passed') expect(issues).toEqual([]);
    });

    it(`${dataset.name}: the same issues from summarized files, which keep no image bytes`, () => {
      const profile = profileFor(dataset.profile);
      const facts = dataset.files.map((file) => factsOf(profile, file));
      const summarized = facts.map((f) => profile.summarize(f));
      expect(summarized.filter((f) => f.head.length > 0 && !f.body)).toEqual([]);
      const options = { ...DEFAULT_PROFILE_OPTIONS, ...dataset.options };
      expect(profile.validate(summarized, options)).toEqual(profile.validate(facts, options));
    });
  }
});

import { describe, expect, it } from '@jest/globals';
import type { DataSource } from 'typeorm';
import { KNOWN_POLLS_MAX, PollsService } from './polls.service.js';

const FLOOD = 20_000;

/** A database that has every poll asked for (as after many polls were created). */
function everyPoll(): DataSource {
  return {
    query: async (_sql: string, [id]: [string]) => [{ id, question: 'q', created_at: new Date(0), options: ['a', 'b'] }],
  } as unknown as DataSource;
}

describe('PollsService cache', () => {
  it(`keeps at most its bound of polls in memory after ${FLOOD} distinct polls were read`, async () => {
    const polls = new PollsService(everyPoll());
    for (let batch = 0; batch < FLOOD / 500; batch++) {
      await Promise.all(Array.from({ length: 500 }, (_, i) => polls.get(`poll-${batch}-${i}`)));
    }
    expect(polls.cachedPolls).toBeLessThan(FLOOD);
    expect(polls.cachedPolls).toBeLessThanOrEqual(KNOWN_POLLS_MAX);
    // A poll read again is answered from memory.
    const again = await polls.get(`poll-${FLOOD / 500 - 1}-499`);
    expect(again?.options).toEqual(['a', 'b']);
  });
});

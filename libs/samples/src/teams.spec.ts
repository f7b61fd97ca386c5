import { describe, expect, it } from '@jest/globals';
import { createHash } from 'node:crypto';
import { rom, teamsDocument, teamsJson } from './index.js';

const POSITIONS = [
  'goalkeeper',
  'right_back',
  'left_back',
  'centre_back',
  'defender',
  'right_midfielder',
  'centre_midfielder',
  'left_midfielder',
  'midfielder',
  'forward',
  'second_forward',
];

describe('teamsDocument', () => {
  it.each([
    ['original', 40],
    ['international', 51],
  ] as const)('%s has %i national, 64 club and 64 custom teams', (edition, national) => {
    const doc = teamsDocument(edition);
    expect([doc.national.length, doc.club.length, doc.custom.length]).toEqual([national, 64, 64]);
  });

  it('gives each team 16 players: slots 0–10 once each, then 5 subs numbered 12–16', () => {
    const doc = teamsDocument('original');
    for (const team of [...doc.national, ...doc.club, ...doc.custom]) {
      expect(team.players).toHaveLength(16);
      expect(team.players.slice(0, 11).map((p) => p.position)).toEqual(POSITIONS);
      expect(team.players.slice(11).map((p) => p.position)).toEqual(['sub', 'sub', 'sub', 'sub', 'sub']);
      expect(team.players.map((p) => p.number)).toEqual(Array.from({ length: 16 }, (_, i) => i + 1));
    }
  });

  it('uses only the characters the game shows in its texts, and distinct team names', () => {
    const doc = teamsDocument('international');
    const teams = [...doc.national, ...doc.club, ...doc.custom];
    const texts = teams.flatMap((t) => [t.team, t.country, t.coach, ...t.players.map((p) => p.name)]);
    for (const text of texts) expect(text.toUpperCase()).toMatch(/^[A-Z '.-]+$/);
    expect(new Set(teams.map((t) => t.team)).size).toBe(teams.length);
  });

  it('applies `mutate` before returning, and is otherwise the same every time', () => {
    const broken = teamsDocument('original', (d) => d.club[3]!.players.pop());
    expect(broken.club[3]!.players).toHaveLength(15);
    expect(teamsJson(teamsDocument('original')).equals(teamsJson(teamsDocument('original')))).toBe(true);
  });
});

describe('rom', () => {
  it('is deterministic pseudo-random bytes of the size asked for, not a known edition', () => {
    const a = rom(131_072);
    expect(a.length).toBe(131_072);
    expect(a.equals(rom(131_072))).toBe(true);
    expect(new Set(a.subarray(0, 4096)).size).toBeGreaterThan(200);
    const md5 = createHash('md5').update(a).digest('hex');
    expect(['f6fcf5843786bd44f8df6b648661a437', '403ceb23b4cf27d3d9c8965409960bb4']).not.toContain(md5);
  });
});

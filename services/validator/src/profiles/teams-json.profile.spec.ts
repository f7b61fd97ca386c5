import { describe, expect, it } from '@jest/globals';
import { rom, sampleDatasets, teamsDocument, teamsJson, type TeamsDocument } from '@flotilla/samples';
import type { TeamsEdition, ValidationIssue } from '@flotilla/contracts';
import { BODY_LIMIT_BYTES, DEFAULT_PROFILE_OPTIONS, factsOf, profileFor, type FileFacts } from './index.js';

const profile = profileFor('teams-json');
const ORIGINAL_MD5 = 'f6fcf5843786bd44f8df6b648661a437';
const INTERNATIONAL_MD5 = '403ceb23b4cf27d3d9c8965409960bb4';

const fact = (filename: string, content: Buffer): FileFacts => factsOf(profile, { filename, contentType: 'application/json', content });
const doc = (edition: TeamsEdition, mutate?: (d: TeamsDocument) => void): FileFacts => fact('teams.json', teamsJson(teamsDocument(edition, mutate)));
/** A ROM whose MD5 reads as `md5`: the real game images cannot be shipped, so the facts stand in. */
const romWithMd5 = (md5: string): FileFacts => ({ ...fact('game.bin', rom(200_000)), md5 });
const validate = (files: FileFacts[], edition?: TeamsEdition): ValidationIssue[] =>
  profile.validate(files, { ...DEFAULT_PROFILE_OPTIONS, ...(edition ? { edition } : {}) });
const codes = (issues: ValidationIssue[]): string[] => issues.map((i) => i.code);
/** The issues of a document changed by `mutate`, as [code, path] pairs. */
const found = (mutate: (d: TeamsDocument) => void): [string, string | undefined][] =>
  validate([doc('original', mutate)], 'original').map((i) => [i.code, i.path]);

describe('teams-json profile', () => {
  it('wants the body of the .json document only', () => {
    const want = (filename: string) => profile.wantsBody({ filename, contentType: 'application/octet-stream', sizeBytes: 1 });
    expect([want('teams.json'), want('Teams.JSON'), want('game.bin'), want('game.md')]).toEqual([true, true, false, false]);
  });

  it.each(['original', 'international'] as const)('passes a valid %s document declared as such, with no issue at all', (edition) => {
    expect(validate([doc(edition)], edition)).toEqual([]);
  });

  it('passes the valid sample', () => {
    const valid = sampleDatasets().find((d) => d.name === 'teams-valid')!;
    expect(validate(valid.files.map((f) => factsOf(profile, f)), valid.options?.edition)).toEqual([]);
  });

  it('accepts every value by number as well as by name', () => {
    const issues = validate([
      doc('original', (d) => {
        const team = d.club[0]!;
        team.tactic = 7;
        team.kit.first = { style: 3, shirt1: 15, shirt2: 0, shorts: 14, socks: 9 };
        team.players.forEach((p, i) => {
          p.position = i < 11 ? i : 15;
          p.role = 0;
          p.head = 2;
        });
      }),
    ]);
    expect(issues).toEqual([]);
  });

  describe('edition and ROM', () => {
    it('team_count: counts per category differ from the declared edition’s', () => {
      const issues = validate([doc('original')], 'international');
      expect(issues).toEqual([
        {
          severity: 'error',
          code: 'team_count',
          file: 'teams.json',
          path: '/national',
          message: '"national" has 40 teams; the edition declared at upload needs 51',
        },
      ]);
    });

    it('team_count: a ROM of a known edition decides the counts, over the declared edition', () => {
      expect(validate([doc('international'), romWithMd5(INTERNATIONAL_MD5)], 'original')).toEqual([]);
      const issues = validate([doc('international'), romWithMd5(ORIGINAL_MD5)], 'international');
      expect(issues.map((i) => [i.code, i.path])).toEqual([['team_count', '/national']]);
      expect(issues[0]!.message).toContain('the original ROM game.bin needs 40');
    });

    it('does not enforce counts without a ROM or a declared edition', () => {
      expect(validate([doc('original', (d) => d.custom.pop())])).toEqual([]);
    });

    it('rom_unknown_edition: a warning, and the counts are not enforced', () => {
      const issues = validate([doc('original', (d) => d.custom.pop()), fact('game.bin', rom(150_000))], 'original');
      expect(issues).toEqual([expect.objectContaining({ severity: 'warning', code: 'rom_unknown_edition', file: 'game.bin' })]);
    });

    it('rom_too_small: a ROM under 100,000 bytes', () => {
      expect(validate([doc('original'), fact('game.bin', rom(99_999))])).toEqual([
        { severity: 'error', code: 'rom_too_small', file: 'game.bin', message: 'game.bin is 99999 bytes: too small for a ROM (at least 100000)' },
      ]);
      expect(validate([doc('original'), fact('game.bin', rom(100_000))]).map((i) => i.code)).toEqual(['rom_unknown_edition']);
    });
  });

  describe('document', () => {
    it.each([
      ['does not parse', Buffer.from('{"national": ['), /teams.json is not valid JSON: .*\(line 1, column 15\)/],
      ['is not UTF-8', Buffer.from([0x7b, 0xff, 0x7d]), /teams.json is not UTF-8 text/],
    ])('json_invalid: the document %s', (_, content, message) => {
      const issues = validate([fact('teams.json', content)]);
      expect(codes(issues)).toEqual(['json_invalid']);
      expect(issues[0]!.message).toMatch(message);
    });

    it('json_invalid: the document is too large to read', () => {
      const big: FileFacts = { ...fact('teams.json', Buffer.from('{}')), size: BODY_LIMIT_BYTES + 1, declaredSize: BODY_LIMIT_BYTES + 1 };
      delete big.body;
      const issues = validate([big]);
      expect(codes(issues)).toEqual(['json_invalid']);
      expect(issues[0]!.message).toMatch(/too large to check/);
    });

    it('json_invalid: there is no document at all', () => {
      expect(codes(validate([fact('game.bin', rom(150_000))]))).toEqual(['rom_unknown_edition', 'json_invalid']);
    });

    it('reads a document that starts with a byte order mark', () => {
      const withBom = Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), teamsJson(teamsDocument('original'))]);
      expect(validate([fact('teams.json', withBom)], 'original')).toEqual([]);
    });

    it('categories_missing: the top level is not an object', () => {
      const issues = validate([fact('teams.json', Buffer.from('[]'))]);
      expect(issues.map((i) => [i.code, i.path])).toEqual([['categories_missing', '']]);
    });

    it('categories_missing: a category is absent or not an array, and the others are still checked', () => {
      const { national, club } = teamsDocument('original');
      club[0]!.team = 'X1';
      const issues = validate([fact('teams.json', Buffer.from(JSON.stringify({ national, club, custom: {} })))], 'original');
      expect(issues.map((i) => [i.code, i.path])).toEqual([
        ['invalid_chars', '/club/0/team'],
        ['categories_missing', '/custom'],
      ]);
    });
  });

  describe('teams', () => {
    it('player_count: a team with 17 players', () => {
      expect(found((d) => d.national[4]!.players.push({ ...d.national[4]!.players[15]! }))).toEqual([
        ['player_count', '/national/4/players'],
        ['sub_count', '/national/4/players'],
      ]);
    });

    it('player_count: a team without a players array', () => {
      expect(found((d) => delete (d.club[1] as Partial<TeamsDocument['club'][number]>).players)).toEqual([['player_count', '/club/1/players']]);
    });

    it('invalid_chars: text fields outside A–Z, space, - \' . once upper-cased', () => {
      const issues = validate(
        [
          doc('original', (d) => {
            d.national[0]!.team = 'São Tomé';
            d.national[0]!.country = "o'neil-smith jr.";
            d.club[2]!.players[7]!.name = 'R9';
          }),
        ],
        'original',
      );
      expect(issues.map((i) => [i.code, i.path])).toEqual([
        ['invalid_chars', '/national/0/team'],
        ['invalid_chars', '/club/2/players/7/name'],
      ]);
      expect(issues[0]!.message).toContain('"Ã" "É"');
      expect(issues[1]!.message).toContain('"9"');
    });

    it.each<[string, (d: TeamsDocument) => void, string]>([
      ['tactic', (d) => (d.custom[0]!.tactic = '4-2-4'), '/custom/0/tactic'],
      ['tactic out of range', (d) => (d.custom[0]!.tactic = 8), '/custom/0/tactic'],
      ['skill', (d) => (d.custom[0]!.skill = 8), '/custom/0/skill'],
      ['skill not a whole number', (d) => (d.custom[0]!.skill = 2.5), '/custom/0/skill'],
      ['flag', (d) => (d.custom[0]!.flag = 2), '/custom/0/flag'],
      ['kit style', (d) => (d.custom[0]!.kit.second.style = 'stripes'), '/custom/0/kit/second/style'],
      ['kit colour', (d) => (d.custom[0]!.kit.first.socks = 16), '/custom/0/kit/first/socks'],
      ['shirt number', (d) => (d.custom[0]!.players[0]!.number = 0), '/custom/0/players/0/number'],
      ['role', (d) => (d.custom[0]!.players[1]!.role = 'libero'), '/custom/0/players/1/role'],
      ['head', (d) => (d.custom[0]!.players[2]!.head = 3), '/custom/0/players/2/head'],
      ['missing coach', (d) => delete (d.custom[0] as Partial<TeamsDocument['custom'][number]>).coach, '/custom/0/coach'],
      ['player name not text', (d) => ((d.custom[0]!.players[3] as Record<string, unknown>).name = 7), '/custom/0/players/3/name'],
      ['kit not an object', (d) => ((d.custom[0] as Record<string, unknown>).kit = 'red'), '/custom/0/kit'],
      ['team not an object', (d) => ((d.custom as unknown[])[0] = 'KALOMI'), '/custom/0'],
    ])('invalid_value: %s', (_, mutate, path) => {
      expect(found(mutate)).toEqual([['invalid_value', path]]);
    });

    it('invalid_value: a position out of its set, and the slot it leaves empty', () => {
      expect(found((d) => (d.club[9]!.players[4]!.position = 11))).toEqual([
        ['invalid_value', '/club/9/players/4/position'],
        ['formation_slots', '/club/9/players'],
      ]);
    });

    it('formation_slots: a warning when starters do not fill slots 0–10 once each', () => {
      const issues = validate([doc('original', (d) => (d.club[5]!.players[3]!.position = 'goalkeeper'))], 'original');
      expect(issues).toEqual([
        {
          severity: 'warning',
          code: 'formation_slots',
          file: 'teams.json',
          path: '/club/5/players',
          message: expect.stringContaining('slot 0 (goalkeeper) has 2 players; slot 3 (centre_back) is empty'),
        },
      ]);
    });

    it('sub_count: a warning when a team has other than 5 subs', () => {
      const issues = validate([doc('original', (d) => (d.national[7]!.players[15]!.position = 'second_forward'))], 'original');
      expect(issues.map((i) => [i.severity, i.code])).toEqual([
        ['warning', 'formation_slots'],
        ['warning', 'sub_count'],
      ]);
      expect(issues[1]!.message).toContain('has 4 substitutes; a team has 5');
    });
  });

  describe('integrity', () => {
    it('size_mismatch and checksum_mismatch against what upload/start declared', () => {
      const content = teamsJson(teamsDocument('original'));
      const file = factsOf(profile, {
        filename: 'teams.json',
        contentType: 'application/json',
        content,
        declaredSize: content.length + 1,
        declaredSha256: '0'.repeat(64),
      });
      expect(validate([file], 'original').map((i) => [i.code, i.file])).toEqual([
        ['size_mismatch', 'teams.json'],
        ['checksum_mismatch', 'teams.json'],
      ]);
    });
  });
});

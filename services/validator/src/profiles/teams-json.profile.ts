import type { TeamsEdition, ValidationIssue } from '@flotilla/contracts';
import { IssueList } from './issue-list.js';
import { arrayElements, isArrayAt, jsonSyntaxError, topLevelMembers, type Span } from './json-scan.js';
import { bodyText, error, integrityIssues, jsonError, warning } from './issues.js';
import { runToEnd, type FileFacts, type Profile, type ProfileOptions } from './profile.js';

/** A ROM smaller than this cannot be a game image. */
export const ROM_MIN_BYTES = 100_000;

/** The known ROM editions by MD5. */
export const ROM_EDITIONS: Readonly<Record<string, TeamsEdition>> = {
  f6fcf5843786bd44f8df6b648661a437: 'original',
  '403ceb23b4cf27d3d9c8965409960bb4': 'international',
};

const CATEGORIES = ['national', 'club', 'custom'] as const;
type Category = (typeof CATEGORIES)[number];

/** Teams per category of each edition. */
export const EDITION_TEAM_COUNTS: Readonly<Record<TeamsEdition, Readonly<Record<Category, number>>>> = {
  original: { national: 40, club: 64, custom: 64 },
  international: { national: 51, club: 64, custom: 64 },
};

const PLAYERS_PER_TEAM = 16;
const SUBS_PER_TEAM = 5;

/** A value given by name (its index in `names`) or by number in `min..max`. */
interface Choice {
  what: string;
  names: readonly string[];
  min: number;
  max: number;
}

const TACTIC: Choice = { what: 'a tactic', names: ['4-4-2', '5-4-1', '4-5-1', '5-3-2', '3-5-2', '4-3-3', '3-3-4', '6-3-1'], min: 0, max: 7 };
const SKILL: Choice = { what: 'a skill level', names: [], min: 0, max: 7 };
const FLAG: Choice = { what: 'a flag', names: [], min: 0, max: 1 };
const KIT_STYLE: Choice = { what: 'a kit style', names: ['plain', 'sleeves', 'vertical', 'horizontal'], min: 0, max: 3 };
const KIT_COLOUR: Choice = {
  what: 'a kit colour',
  names: [
    'grey',
    'white',
    'black',
    'brown',
    'dark_orange',
    'orange',
    'light_grey',
    'dark_grey',
    'dark_grey_2',
    'red',
    'blue',
    'dark_red',
    'light_blue',
    'green',
    'yellow',
  ],
  min: 0,
  max: 15,
};
const NUMBER: Choice = { what: 'a shirt number', names: [], min: 1, max: 16 };
const ROLE: Choice = { what: 'a role', names: ['goalkeeper', 'defender', 'midfielder', 'forward'], min: 0, max: 3 };
const HEAD: Choice = { what: 'a head', names: ['white_dark', 'white_blonde', 'black_dark'], min: 0, max: 2 };
/** Formation slots 0–10 by name; substitutes are `sub`, number 15. */
const SLOTS = [
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
const SUB = 15;
const KIT_PARTS = ['style', 'shirt1', 'shirt2', 'shorts', 'socks'] as const;
const TEXT_FIELDS = ['team', 'country', 'coach'] as const;
const TEXT_ALLOWED = /^[A-Z '.-]*$/;

const isDocument = (filename: string): boolean => filename.toLowerCase().endsWith('.json');
const isObject = (value: unknown): value is Record<string, unknown> => typeof value === 'object' && value !== null && !Array.isArray(value);
const show = (value: unknown): string => (value === undefined ? 'missing' : JSON.stringify(value));

/**
 * `teams-json`: one JSON document of teams (the `.json` file) and, optionally, the ROM
 * it targets (any other file), known by its MD5. The document's shape:
 * `{ national: Team[], club: Team[], custom: Team[] }`, a Team being
 * `{ team, country, coach, tactic, skill, flag, kit: { first: Kit, second: Kit }, players: Player[16] }`,
 * a Kit `{ style, shirt1, shirt2, shorts, socks }`, a Player
 * `{ number, name, position, role, head }`. Other members are ignored.
 */
export const teamsJsonProfile: Profile = {
  wantsBody: ({ filename }) => isDocument(filename),

  // Only sizes, hashes and the documents' bodies matter here.
  summarize: (file) => ({ ...file, head: Buffer.alloc(0) }),

  validate(files: FileFacts[], options: ProfileOptions, issues = new IssueList()): ValidationIssue[] {
    return runToEnd(this.validateInSteps!(files, options, issues));
  },

  *validateInSteps(files: FileFacts[], options: ProfileOptions, issues = new IssueList()): Generator<void, ValidationIssue[]> {
    issues.add(files.flatMap(integrityIssues));
    const roms = files.filter((f) => !isDocument(f.filename));
    const documents = files.filter((f) => isDocument(f.filename));

    // With a ROM, the ROM decides the edition; without one, the declared edition does.
    let edition: { name: TeamsEdition; source: string } | undefined = options.edition
      ? { name: options.edition, source: 'the edition declared at upload' }
      : undefined;
    if (roms.length > 0) edition = undefined;
    for (const rom of roms) {
      const at = { file: rom.filename };
      if (rom.size < ROM_MIN_BYTES) {
        issues.push(error('rom_too_small', `${rom.filename} is ${rom.size} bytes: too small for a ROM (at least ${ROM_MIN_BYTES})`, at));
        continue;
      }
      const known = Object.hasOwn(ROM_EDITIONS, rom.md5) ? ROM_EDITIONS[rom.md5] : undefined;
      if (known) edition ??= { name: known, source: `the ${known} ROM ${rom.filename}` };
      else {
        issues.push(
          warning('rom_unknown_edition', `${rom.filename} (MD5 ${rom.md5}) is neither the original nor the international ROM: team counts are not checked`, at),
        );
      }
    }

    if (documents.length === 0) issues.push(error('json_invalid', 'The dataset has no JSON document of teams (a .json file)'));
    for (const document of documents) yield* checkDocument(document, edition, issues);
    return issues.toArray();
  },
};

/** Teams checked between two steps of {@link teamsJsonProfile.validateInSteps}. */
const TEAMS_PER_STEP = 5000;

function* checkDocument(file: FileFacts, edition: { name: TeamsEdition; source: string } | undefined, issues: IssueList): Generator<void, void> {
  const content = bodyText(file);
  if ('problem' in content) {
    issues.push(error('json_invalid', `${file.filename} ${content.problem}`, { file: file.filename }));
    return;
  }
  // Checked piece by piece: the document is never built whole (see json-scan.ts).
  const text = content.text;
  const syntax = jsonSyntaxError(text);
  if (syntax !== undefined) {
    issues.push(error('json_invalid', `${file.filename} is not valid JSON: ${jsonError(new SyntaxError(syntax), text)}`, { file: file.filename }));
    return;
  }
  const check = new DocumentCheck(file.filename, issues);
  const members = topLevelMembers(text);
  if (!members) {
    const top = text.trimStart().startsWith('[') ? 'an array' : shownAt(text, [0, text.length]);
    check.add('categories_missing', '', () => `the top level must be an object with arrays "national", "club" and "custom", not ${top}`);
    return;
  }
  for (const category of CATEGORIES) {
    const span = members.get(category);
    if (!span || !isArrayAt(text, span)) {
      check.add('categories_missing', `/${category}`, () => `"${category}" must be an array of teams; it is ${span ? shownAt(text, span) : show(undefined)}`);
      continue;
    }
    const expected = edition ? EDITION_TEAM_COUNTS[edition.name][category] : undefined;
    if (expected !== undefined) {
      let count = 0;
      for (const _ of arrayElements(text, span)) if (++count % (10 * TEAMS_PER_STEP) === 0) yield;
      if (count !== expected) check.add('team_count', `/${category}`, () => `"${category}" has ${count} teams; ${edition!.source} needs ${expected}`);
    }
    let index = 0;
    for (const [start, end] of arrayElements(text, span)) {
      const at = `/${category}/${index}`;
      const label = `${category}[${index}]`;
      if (end - start > TEAM_MAX_CHARS) check.add('invalid_value', at, () => `${label} is ${end - start} characters long: a team is at most ${TEAM_MAX_CHARS}`);
      else check.team(JSON.parse(text.slice(start, end)), at, label);
      if (++index % TEAMS_PER_STEP === 0) yield;
    }
  }
}

/** Longest team element parsed (real teams are a few KiB): a huge one is reported, not built. */
const TEAM_MAX_CHARS = 256 * 1024;

/** The value at `span` as `show` writes it, cut short when it is long (it is never parsed whole then). */
function shownAt(text: string, span: Span): string {
  const length = span[1] - span[0];
  return length <= 4096 ? show(JSON.parse(text.slice(span[0], span[1]))) : `${text.slice(span[0], span[0] + 200)}… (${length} characters)`;
}

/** Adds the issues of one document to the job's list; every issue carries the JSON pointer of its value. */
class DocumentCheck {
  constructor(
    private readonly file: string,
    private readonly issues: IssueList,
  ) {}

  /** `message` is a function: once the code's list is full, the issue is only counted, never written out. */
  add(code: string, path: string, message: () => string, severity: 'error' | 'warning' = 'error'): void {
    if (this.issues.countIfFull(code, severity)) return;
    const where = { file: this.file, path };
    this.issues.push(severity === 'error' ? error(code, message(), where) : warning(code, message(), where));
  }

  team(team: unknown, path: string, label: string): void {
    if (!isObject(team)) {
      this.add('invalid_value', path, () => `${label} must be a team object; it is ${show(team)}`);
      return;
    }
    const name = typeof team.team === 'string' ? `${label} "${team.team}"` : label;
    for (const field of TEXT_FIELDS) this.text(team[field], `${path}/${field}`, `${name}: ${field}`);
    this.choice(team.tactic, TACTIC, `${path}/tactic`, `${name}: tactic`);
    this.choice(team.skill, SKILL, `${path}/skill`, `${name}: skill`);
    this.choice(team.flag, FLAG, `${path}/flag`, `${name}: flag`);
    this.kit(team.kit, `${path}/kit`, name);
    this.players(team.players, `${path}/players`, name);
  }

  private kit(kit: unknown, path: string, name: string): void {
    if (!isObject(kit)) {
      this.add('invalid_value', path, () => `${name}: kit must be an object with "first" and "second"; it is ${show(kit)}`);
      return;
    }
    for (const which of ['first', 'second'] as const) {
      const k = kit[which];
      if (!isObject(k)) {
        this.add('invalid_value', `${path}/${which}`, () => `${name}: kit.${which} must be an object; it is ${show(k)}`);
        continue;
      }
      for (const part of KIT_PARTS) {
        this.choice(k[part], part === 'style' ? KIT_STYLE : KIT_COLOUR, `${path}/${which}/${part}`, `${name}: kit.${which}.${part}`);
      }
    }
  }

  private players(players: unknown, path: string, name: string): void {
    if (!Array.isArray(players)) {
      this.add('player_count', path, () => `${name} has no "players" array (it is ${show(players)}); a team has ${PLAYERS_PER_TEAM} players`);
      return;
    }
    if (players.length !== PLAYERS_PER_TEAM) {
      this.add('player_count', path, () => `${name} has ${players.length} players; a team has ${PLAYERS_PER_TEAM}`);
    }
    const slots: number[] = [];
    players.forEach((player: unknown, index) => {
      const at = `${path}/${index}`;
      const label = `${name}: players[${index}]`;
      if (!isObject(player)) {
        this.add('invalid_value', at, () => `${label} must be a player object; it is ${show(player)}`);
        return;
      }
      this.choice(player.number, NUMBER, `${at}/number`, `${label}.number`);
      this.text(player.name, `${at}/name`, `${label}.name`);
      const slot = position(player.position);
      if (slot === undefined) {
        this.add(
          'invalid_value',
          `${at}/position`,
          () => `${label}.position ${show(player.position)} is not a position: use one of ${[...SLOTS, 'sub'].join(', ')}, or a number 0–10 (15 for sub)`,
        );
      } else slots.push(slot);
      this.choice(player.role, ROLE, `${at}/role`, `${label}.role`);
      this.choice(player.head, HEAD, `${at}/head`, `${label}.head`);
    });
    const filled = new Map<number, number>();
    for (const slot of slots) if (slot !== SUB) filled.set(slot, (filled.get(slot) ?? 0) + 1);
    const problems = SLOTS.flatMap((slotName, slot) => {
      const n = filled.get(slot) ?? 0;
      if (n === 1) return [];
      return [n === 0 ? `slot ${slot} (${slotName}) is empty` : `slot ${slot} (${slotName}) has ${n} players`];
    });
    if (problems.length > 0) {
      this.add('formation_slots', path, () => `${name}: the starters do not fill slots 0–10 once each: ${problems.join('; ')}`, 'warning');
    }
    const subs = slots.filter((s) => s === SUB).length;
    if (subs !== SUBS_PER_TEAM) this.add('sub_count', path, () => `${name} has ${subs} substitutes; a team has ${SUBS_PER_TEAM}`, 'warning');
  }

  private text(value: unknown, path: string, label: string): void {
    if (typeof value !== 'string') {
      this.add('invalid_value', path, () => `${label} must be text; it is ${show(value)}`);
      return;
    }
    const upper = value.toUpperCase();
    if (!TEXT_ALLOWED.test(upper)) {
      const bad = [...new Set([...upper].filter((c) => !TEXT_ALLOWED.test(c)))].map((c) => JSON.stringify(c)).join(' ');
      this.add('invalid_chars', path, () => `${label} ${JSON.stringify(value)} has characters the game cannot show: ${bad} (letters A–Z, space, - ' . only)`);
    }
  }

  private choice(value: unknown, choice: Choice, path: string, label: string): void {
    if (typeof value === 'string' && choice.names.includes(value)) return;
    if (typeof value === 'number' && Number.isInteger(value) && value >= choice.min && value <= choice.max) return;
    const names = choice.names.length > 0 ? `one of ${choice.names.join(', ')}, or ` : '';
    this.add('invalid_value', path, () => `${label} ${show(value)} is not ${choice.what}: use ${names}a whole number ${choice.min}–${choice.max}`);
  }
}

/** The formation slot (0–10) or 15 for a substitute, or `undefined` when `value` is neither. */
function position(value: unknown): number | undefined {
  if (typeof value === 'string') {
    if (value === 'sub') return SUB;
    const slot = SLOTS.indexOf(value);
    return slot >= 0 ? slot : undefined;
  }
  if (typeof value === 'number' && Number.isInteger(value) && ((value >= 0 && value < SLOTS.length) || value === SUB)) return value;
  return undefined;
}

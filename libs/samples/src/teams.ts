import type { TeamsEdition } from '@flotilla/contracts';
import { noise } from './pixels.js';

/**
 * The `teams-json` document:
 *
 * ```jsonc
 * {
 *   "national": [Team, ...],   // original 40, international 51
 *   "club":     [Team, ...],   // 64
 *   "custom":   [Team, ...]    // 64
 * }
 * ```
 *
 * Other top-level members are allowed and ignored. Every value given by name below may
 * also be given by its number (the index in its list, `sub` being 15).
 */
export interface TeamsDocument {
  national: Team[];
  club: Team[];
  custom: Team[];
  [other: string]: unknown;
}

/**
 * One team. Text fields (`team`, `country`, `coach`), upper-cased, use only `A–Z`,
 * space, `-`, `'` and `.`.
 */
export interface Team {
  team: string;
  country: string;
  coach: string;
  /** `4-4-2 5-4-1 4-5-1 5-3-2 3-5-2 4-3-3 3-3-4 6-3-1` or 0–7. */
  tactic: string | number;
  /** 0–7. */
  skill: number;
  /** 0 or 1. */
  flag: number;
  kit: { first: Kit; second: Kit };
  /** Exactly 16: the starters fill formation slots 0–10 once each, the other 5 are `sub`. */
  players: Player[];
  [other: string]: unknown;
}

/**
 * `style`: `plain sleeves vertical horizontal` or 0–3; colours: `grey white black brown
 * dark_orange orange light_grey dark_grey dark_grey_2 red blue dark_red light_blue green
 * yellow` or 0–15.
 */
export interface Kit {
  style: string | number;
  shirt1: string | number;
  shirt2: string | number;
  shorts: string | number;
  socks: string | number;
}

export interface Player {
  /** 1–16. */
  number: number;
  name: string;
  /**
   * A formation slot 0–10 — `goalkeeper right_back left_back centre_back defender
   * right_midfielder centre_midfielder left_midfielder midfielder forward second_forward` —
   * or `sub` (15).
   */
  position: string | number;
  /** `goalkeeper defender midfielder forward` or 0–3. */
  role: string | number;
  /** `white_dark white_blonde black_dark` or 0–2. */
  head: string | number;
  [other: string]: unknown;
}

const TACTICS = ['4-4-2', '5-4-1', '4-5-1', '5-3-2', '3-5-2', '4-3-3', '3-3-4', '6-3-1'] as const;
const KIT_STYLES = ['plain', 'sleeves', 'vertical', 'horizontal'] as const;
const KIT_COLOURS = [
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
] as const;
const HEADS = ['white_dark', 'white_blonde', 'black_dark'] as const;

/** Teams per category of each edition. */
const EDITION_TEAM_COUNTS: Record<TeamsEdition, { national: number; club: number; custom: number }> = {
  original: { national: 40, club: 64, custom: 64 },
  international: { national: 51, club: 64, custom: 64 },
};

const SYLLABLES = ['KA', 'LO', 'MI', 'RE', 'TO', 'SA', 'NU', 'VE', 'DI', 'PA', 'RO', 'BE', 'GA', 'LI', 'MO', 'TE'];
const INITIALS = 'ABCDEFGHIJKLMNOPRSTVW';

/** A pronounceable word from `n`: different `n` give different words. */
function word(n: number, length = 3): string {
  let out = '';
  let rest = n;
  for (let i = 0; i < length; i++) {
    out += SYLLABLES[rest % SYLLABLES.length];
    rest = Math.floor(rest / SYLLABLES.length);
  }
  return out;
}

// Starters in slot order 0–10, then the five substitutes.
const SQUAD: { position: string; role: string }[] = [
  { position: 'goalkeeper', role: 'goalkeeper' },
  { position: 'right_back', role: 'defender' },
  { position: 'left_back', role: 'defender' },
  { position: 'centre_back', role: 'defender' },
  { position: 'defender', role: 'defender' },
  { position: 'right_midfielder', role: 'midfielder' },
  { position: 'centre_midfielder', role: 'midfielder' },
  { position: 'left_midfielder', role: 'midfielder' },
  { position: 'midfielder', role: 'midfielder' },
  { position: 'forward', role: 'forward' },
  { position: 'second_forward', role: 'forward' },
  { position: 'sub', role: 'goalkeeper' },
  { position: 'sub', role: 'defender' },
  { position: 'sub', role: 'midfielder' },
  { position: 'sub', role: 'midfielder' },
  { position: 'sub', role: 'forward' },
];

function kit(n: number): Kit {
  const colour = (k: number): string => KIT_COLOURS[(n + k) % KIT_COLOURS.length]!;
  return { style: KIT_STYLES[n % KIT_STYLES.length]!, shirt1: colour(0), shirt2: colour(3), shorts: colour(7), socks: colour(11) };
}

function team(category: string, index: number, serial: number, countries: string[]): Team {
  const name = word(serial);
  const players = SQUAD.map(({ position, role }, i) => {
    const surname = word(serial * 16 + i + 7, 2);
    // Some names carry the punctuation the game allows: O'..., ...-..., initials.
    const styled = i % 5 === 1 ? `O'${surname}` : i % 5 === 3 ? `${surname}-${word(i, 1)}` : surname;
    return {
      number: i + 1,
      name: `${INITIALS[(serial + i) % INITIALS.length]}. ${styled}`,
      position,
      role,
      head: HEADS[(serial + i) % HEADS.length]!,
    };
  });
  return {
    team: category === 'national' ? name : category === 'club' ? `${name} FC` : `${name} ALL STARS`,
    country: category === 'national' ? name : countries[index % countries.length]!,
    coach: `${INITIALS[serial % INITIALS.length]}. ${word(serial + 1000, 2)}`,
    tactic: TACTICS[serial % TACTICS.length]!,
    skill: serial % 8,
    flag: serial % 2,
    kit: { first: kit(serial), second: kit(serial + 5) },
    players,
  };
}

/**
 * A valid `teams-json` document for `edition` (see {@link TeamsDocument}): original
 * 40/64/64 teams, international 51/64/64, each with 16 players, starters in slots
 * 0–10 and 5 substitutes. Names are deterministic. `mutate`, when given, edits the
 * document before it is returned (to build broken variants).
 */
export function teamsDocument(edition: TeamsEdition, mutate?: (doc: TeamsDocument) => void): TeamsDocument {
  const counts = EDITION_TEAM_COUNTS[edition];
  let serial = 0;
  const national = Array.from({ length: counts.national }, (_, i) => team('national', i, serial++, []));
  const countries = national.map((t) => t.country);
  const doc: TeamsDocument = {
    national,
    club: Array.from({ length: counts.club }, (_, i) => team('club', i, serial++, countries)),
    custom: Array.from({ length: counts.custom }, (_, i) => team('custom', i, serial++, countries)),
  };
  mutate?.(doc);
  return doc;
}

/** A document as the bytes of a `.json` file (UTF-8, indented). */
export function teamsJson(doc: TeamsDocument): Buffer {
  return Buffer.from(`${JSON.stringify(doc, null, 2)}\n`, 'utf8');
}

/**
 * `sizeBytes` deterministic pseudo-random bytes standing in for a ROM image: the same
 * size always gives the same bytes, whose MD5 is neither known edition's.
 */
export function rom(sizeBytes: number): Buffer {
  return noise(sizeBytes, sizeBytes);
}

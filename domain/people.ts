/**
 * People matched as people, not as strings (issue 14, points 5 and 6): one normalisation for names and staff
 * numbers (工号), and the reading of an applicant's avoid list (回避) against the expert pool. Pure.
 */

/**
 * Every kind of space and invisible character: Unicode White_Space (ASCII, NBSP U+00A0, ideographic U+3000, the
 * U+2000 block, line and paragraph separators…) and every Default_Ignorable_Code_Point — the zero-width space,
 * joiners and word joiner, the byte-order mark, the soft hyphen, the bidirectional marks and controls (U+200E,
 * U+202A–U+202E, U+2066–U+2069), invisible operators, variation selectors — plus U+180E. `T\u00ad100` (a soft
 * hyphen) or `T\u200e100` (a left-to-right mark) is then the 工号 `T100`, not another person.
 */
const SPACES = /[\p{White_Space}\p{Default_Ignorable_Code_Point}\u180E]/gu;

/**
 * A person's name as compared: NFKC (full-width letters and digits become ASCII, compatibility ideographs
 * their unified form) with every kind of space removed, so `黄 洋`, `黄\u3000洋` and `黄\u200b洋` are `黄洋`.
 */
export function normaliseName(name: string): string {
  return name.normalize('NFKC').replace(SPACES, '');
}

/**
 * A staff number (工号) as compared: NFKC, every kind of space removed (which trims it), letters case-folded
 * to upper case, so `ｔ 2015031` and `T2015031` are one number. 工号 are issued by the university, so a
 * person is (university, normalised 工号) across the university and all its colleges.
 */
export function normaliseStaffNo(staffNo: string): string {
  return staffNo.normalize('NFKC').replace(SPACES, '').toUpperCase();
}

/** An avoid-list entry read: the name, and the work unit when the applicant gave one. Both normalised. */
export interface AvoidEntry {
  name: string;
  unit?: string;
  /** Brackets given with nothing inside (`黄洋（）`): a unit meant but left out. */
  emptyUnit?: true;
}

/**
 * Reads an avoid-list entry: `姓名`, or `姓名（工作单位）` to tell apart experts who share a name (half- or
 * full-width brackets; NFKC makes them one). An empty unit reads as absent, marked `emptyUnit`.
 */
export function parseAvoidEntry(entry: string): AvoidEntry {
  const text = entry.normalize('NFKC');
  const m = /^(.*?)\((.*)\)\s*$/su.exec(text);
  const name = normaliseName(m ? m[1]! : text);
  const unit = m ? normaliseName(m[2]!) : '';
  if (unit) return { name, unit };
  return m ? { name, emptyUnit: true } : { name };
}

/** An expert as the avoid list sees them: id, name, and the names of the units they work for. */
export interface AvoidCandidate {
  id: string;
  name: string;
  /** Their institution, its university when it is a college, and their enterprise (any may be absent). */
  unitNames: readonly string[];
}

/** What an avoid-list entry matched in the pool. */
export type AvoidMatch = { kind: 'one'; expertId: string } | { kind: 'none' } | { kind: 'several'; count: number };

/** Whether `candidate` is the person `wanted` names: same normalised name, and a unit containing the one given. */
function names(wanted: AvoidEntry, candidate: AvoidCandidate): boolean {
  if (!wanted.name || normaliseName(candidate.name) !== wanted.name) return false;
  const unit = wanted.unit;
  return unit === undefined || candidate.unitNames.some((u) => normaliseName(u).includes(unit));
}

/**
 * The experts an avoid-list entry names: same normalised name and, when the entry gives a unit, a unit whose
 * normalised name contains it (`宇通客车` names 宇通客车股份有限公司). Only ids and a count come out: the
 * pool's names are never shown to applicants.
 */
export function matchAvoidEntry(entry: string, pool: readonly AvoidCandidate[]): AvoidMatch {
  const wanted = parseAvoidEntry(entry);
  const found = pool.filter((e) => names(wanted, e));
  if (found.length === 0) return { kind: 'none' };
  if (found.length === 1) return { kind: 'one', expertId: found[0]!.id };
  return { kind: 'several', count: found.length };
}

/**
 * The expert ids an avoid list keeps away, read at assignment for drafts saved before entries were resolved
 * at saving: every expert an entry matches (several included: 回避 errs on the side of keeping away).
 */
export function avoidedExpertIds(entries: readonly string[], pool: readonly AvoidCandidate[]): string[] {
  const ids = new Set<string>();
  for (const entry of entries) {
    const wanted = parseAvoidEntry(entry);
    for (const e of pool) if (names(wanted, e)) ids.add(e.id);
  }
  return [...ids];
}

/**
 * What one line of text (a person's name, a label) may not hold, as a regex character class both ECMA and Python
 * engines read alike: C0 and C1 control characters (line feed, carriage return, tab, NUL…) and the Unicode line
 * and paragraph separators. Such text goes into an email's greeting or a header-like line, where a break would
 * start another line.
 */
export const LINE_BREAKING = '\\u0000-\\u001f\\u007f-\\u009f\\u2028\\u2029';

/**
 * The invisible format characters of the Basic Multilingual Plane (Unicode category Cf, as a character class both
 * engines read): the soft hyphen, zero-width space, non-joiner and joiner, word joiner, the byte-order mark
 * (U+FEFF) and the bidirectional controls (U+202A–U+202E, U+2066–U+2069, which can show a name reversed). Pasted
 * from a web page or a Word file, they make `张\ufeff三` a different name from `张三` that looks the same — one
 * person recorded twice, a 回避 list that misses them — and `\u200b` alone a name that shows as nothing.
 */
export const INVISIBLE = '\\u00ad\\u061c\\u180e\\u200b-\\u200f\\u202a-\\u202e\\u2060-\\u2064\\u2066-\\u206f\\ufeff';

/** What one line of visible text (`isOneLine`, `oneLineText` in api/schemas.ts) may not hold: both classes above. */
export const NOT_IN_ONE_LINE = `${LINE_BREAKING}${INVISIBLE}`;

/**
 * Combining marks and variation selectors (as a character class both engines read): shown only on the character
 * before them, so a text of nothing else shows as nothing.
 */
export const COMBINING = '\\u0300-\\u036f\\u1ab0-\\u1aff\\u1dc0-\\u1dff\\u20d0-\\u20ff\\ufe00-\\ufe0f\\ufe20-\\ufe2f';

/** One character that shows: not a space, not invisible (`NOT_IN_ONE_LINE`), not a combining mark. */
export const VISIBLE_CHARACTER = `[^\\s${NOT_IN_ONE_LINE}${COMBINING}]`;

/** What a name of nothing visible (a lone combining accent `\u0301`) is told (after its label), zh-CN. */
export const VISIBLE_RULE_ZH = '须含有可见的文字';

/** Whether `text` holds at least one character that shows (`VISIBLE_CHARACTER`). */
export function hasVisibleCharacter(text: string): boolean {
  // The class lists combining marks as escaped ranges, to exclude them: no mark combines with the class itself.
  // eslint-disable-next-line no-misleading-character-class
  return new RegExp(VISIBLE_CHARACTER).test(text);
}

/**
 * What no text a person writes holds, even over several lines (a regex class both engines read): control
 * characters other than tab, line feed and carriage return, the Unicode line and paragraph separators, and the
 * invisible format characters (`INVISIBLE`: zero-width, byte-order mark, bidirectional controls that show text
 * reversed).
 */
export const NOT_IN_TEXT = `\\u0000-\\u0008\\u000b\\u000c\\u000e-\\u001f\\u007f-\\u009f\\u2028\\u2029${INVISIBLE}`;

/** What a text field holding such a character is told (after its label), zh-CN. */
export const TEXT_RULE_ZH = '不能含控制字符或零宽空格、方向控制符等不可见字符';

/** Whether `text` holds none of `NOT_IN_TEXT` (line breaks and tabs allowed). */
export function isCleanText(text: string): boolean {
  return !new RegExp(`[${NOT_IN_TEXT}]`).test(text);
}

/** What a field that must be one line is told (after its label), zh-CN. */
export const ONE_LINE_RULE_ZH = '只能是一行文字，不能含换行、制表符等控制字符或零宽空格等不可见字符';

/** Whether `text` holds no line break, other control character or invisible format character (`NOT_IN_ONE_LINE`). */
export function isOneLine(text: string): boolean {
  return !new RegExp(`[${NOT_IN_ONE_LINE}]`).test(text);
}

import type { Db } from '../knex.js';
import type { ReferenceKind } from './reference-versions.js';
import { isOneLine, ONE_LINE_RULE_ZH } from '../../domain/people.js';
import type { SheetColumn, SheetRow, SheetShape } from '../../domain/sheets.js';

/**
 * The pieces every reference list is made of (issue 16): the list's contract (`ReferenceList`), what its checks
 * read from the database (`ListContext`), one collector of row problems with the rules for ids and one-line
 * texts (`RowChecker`), and lookups by id or full name. The lists themselves: db/repositories/reference-lists.ts
 * (institutions, enterprises, partnerships) and db/repositories/reference-experts.ts (the expert pool).
 */

/** The lists staff keep, as the API names them. */
export type ReferenceListName = 'institutions' | 'enterprises' | 'partnerships' | 'experts';

/** A record as stored (snake_case columns), what a version's `data` holds: text columns for most lists. */
export type StoredRow = Record<string, string | null>;

/** Any list's record (the expert pool's holds arrays and a flag too). */
export type AnyRecord = Record<string, unknown>;

/** One problem of one row: the row's number, the column's zh-CN header, what to fix (zh-CN), and whether it is a clash with another record (409) rather than an invalid value (422). */
export interface RowProblem {
  row: number;
  /** The column's key (the API body's field). */
  key: string;
  column: string;
  message: string;
  clash?: true;
  /** The catalogue code of the refusal, when it is not the list's default (REFERENCE_EXISTS for a clash). */
  code?: string;
}

/** What a row that passed every check does: create a record, change one, or nothing (it is already so). */
export interface RowPlan<R extends AnyRecord = AnyRecord> {
  row: number;
  subjectId: string;
  action: 'create' | 'change' | 'unchanged';
  record: R;
}

/** A list: its sheet, its table and how its rows are checked; `R` is its record as stored. */
export interface ReferenceList<K extends string = string, R extends AnyRecord = AnyRecord> {
  name: ReferenceListName;
  kind: Exclude<ReferenceKind, 'programme_rules'>;
  /** zh-CN name of the list (the export's sheet and file). */
  titleZh: string;
  shape: SheetShape<K>;
  table: string;
  /** The subject id of a stored record (`reference_versions.subject_id`). */
  subjectOf(record: R): string;
  /** Every stored record, in the export's order. */
  load(db: Db): Promise<R[]>;
  /** A stored record as the sheet's cells (blank cells left out). */
  cellsOf(record: R, context: ListContext): Partial<Record<K, string>>;
  /** Checks rows against each other and `context`; returns the problems and each sound row's stored form. */
  check(rows: readonly SheetRow<K>[], context: ListContext): { problems: RowProblem[]; records: Map<number, R> };
  /**
   * Writes a created or changed record inside the caller's transaction; returns what its version records. Absent:
   * the record is the table's row (inserted, or updated by `id`), and the version records the row as written.
   */
  write?(trx: Db, plan: RowPlan<R>): Promise<R>;
}

/** An expert of the pool as stored and versioned (the expert list's record, issue 16 point 1). */
export interface ExpertRecord extends AnyRecord {
  id: string;
  name_zh: string;
  title_zh: string;
  /** academic: works at `institution_id`; industry: at `enterprise_id`. */
  affiliation_kind: 'academic' | 'industry';
  institution_id: string | null;
  enterprise_id: string | null;
  email: string;
  phone: string | null;
  /** Industry keys (the fields the expert reviews), in the order given. */
  fields: string[];
  active: boolean;
  /** Institutions and enterprises the expert declared a conflict with (回避), ids sorted; declines' are apart. */
  conflict_institution_ids: string[];
  conflict_enterprise_ids: string[];
}

/** What checks read from the database: every institution, enterprise, industry, partnership and expert. */
export interface ListContext {
  institutions: StoredRow[];
  enterprises: StoredRow[];
  industries: { key: string; name_zh: string }[];
  partnerships: StoredRow[];
  experts: ExpertRecord[];
  /** Open assignments (invited or accepted) by expert id: an expert who has some cannot simply be deactivated. */
  openAssignments: Map<string, number>;
  /** Experts whose open assignments the caller replaces once they are deactivated (staff confirmed it). */
  replacing: ReadonlySet<string>;
}

/**
 * The expert pool as stored, in id order, each with the conflicts declared with the pool (`expert_conflicts` of
 * source `declared`; those recorded by a decline are the review's and stay apart).
 */
export function loadExperts(db: Db): Promise<ExpertRecord[]> {
  return db('experts as e')
    .leftJoin('expert_conflicts as c', function () {
      this.on('c.expert_id', '=', 'e.id').andOn('c.source', '=', db.raw('?', ['declared']));
    })
    .groupBy('e.id')
    .orderBy('e.id')
    .select<ExpertRecord[]>(
      'e.id',
      'e.name_zh',
      'e.title_zh',
      'e.affiliation_kind',
      'e.institution_id',
      'e.enterprise_id',
      'e.email',
      'e.phone',
      'e.fields',
      'e.active',
      db.raw(
        `coalesce(array_agg(distinct c.institution_id order by c.institution_id) filter (where c.institution_id is not null), '{}') as conflict_institution_ids`,
      ),
      db.raw(
        `coalesce(array_agg(distinct c.enterprise_id order by c.enterprise_id) filter (where c.enterprise_id is not null), '{}') as conflict_enterprise_ids`,
      ),
    );
}

/** Open assignments (invited or accepted) per expert id. */
export async function openAssignmentCounts(db: Db): Promise<Map<string, number>> {
  const rows = await db('review_assignments')
    .whereIn('status', ['invited', 'accepted'])
    .groupBy('expert_id')
    .select<{ expert_id: string; n: string }[]>('expert_id', db.raw('count(*) as n'));
  return new Map(rows.map((r) => [r.expert_id, Number(r.n)]));
}

/** Everything the lists' checks read, as stored; `replacing` as the caller confirmed (none by default). */
export async function loadContext(db: Db, replacing: ReadonlySet<string> = new Set()): Promise<ListContext> {
  return {
    institutions: await db('institutions').select<StoredRow[]>('*'),
    enterprises: await db('enterprises').select<StoredRow[]>('*'),
    industries: await db('industries').select<{ key: string; name_zh: string }[]>('key', 'name_zh'),
    partnerships: await db('institution_partners').select<StoredRow[]>('*'),
    experts: await loadExperts(db),
    openAssignments: await openAssignmentCounts(db),
    replacing,
  };
}

/** An id: lower-case letters, digits and hyphens, 1–40, starting with a letter or digit (zzu, zzu-cs, citic-hic). */
export const REFERENCE_ID_PATTERN = /^[a-z0-9][a-z0-9-]{0,39}$/;
/** A phone number as offices write it: digits, optionally +, spaces, hyphens and an extension after 转. */
export const PHONE_PATTERN = /^\+?[0-9][0-9 -]{4,23}(转[0-9]{1,6})?$/;

export const column = <K extends string>(key: K, header: string, required: boolean, help: string, width: number) =>
  ({ key, header, required, help, width }) satisfies SheetColumn<K>;

/** Checks shared by the lists: one collector of problems and the rules for ids and one-line texts. */
export class RowChecker<K extends string> {
  readonly problems: RowProblem[] = [];
  private readonly label: Record<string, string>;
  constructor(shape: SheetShape<K>) {
    this.label = Object.fromEntries(shape.columns.map((c) => [c.key, c.header]));
  }
  /** A problem of `row` in `key`; a clash (409) when `clash` is given: true, or the refusal's catalogue code. */
  add(row: number, key: K, message: string, clash?: true | string): void {
    const kind = clash === undefined ? {} : clash === true ? { clash } : { clash: true as const, code: clash };
    this.problems.push({ row, key, column: this.label[key]!, message, ...kind });
  }
  /** A required one-line text of at most `max` characters; undefined (and a problem) when it is not. */
  text(r: SheetRow<K>, key: K, max: number, required: boolean): string | undefined {
    const value: string | undefined = r.cells[key];
    const label = this.label[key]!;
    if (value === undefined) {
      if (required) this.add(r.row, key, `${label}不能为空`);
      return undefined;
    }
    if ([...value].length > max) this.add(r.row, key, `${label}至多 ${max} 个字`);
    else if (!isOneLine(value)) this.add(r.row, key, `${label}${ONE_LINE_RULE_ZH}`);
    else return value;
    return undefined;
  }
  /** A new or existing record's id, once per file. */
  id(r: SheetRow<K>, key: K, firstRow: Map<string, number>): string | undefined {
    const id = this.text(r, key, 40, true);
    if (id === undefined) return undefined;
    if (!REFERENCE_ID_PATTERN.test(id)) {
      this.add(r.row, key, `编号“${id}”应为 1–40 个小写字母、数字或连字符（如 zzu、zzu-cs）`);
      return undefined;
    }
    const first = firstRow.get(id);
    if (first !== undefined) {
      this.add(r.row, key, `编号 ${id} 与第 ${first} 行重复`, true);
      return undefined;
    }
    firstRow.set(id, r.row);
    return id;
  }
}

/** The record found by id or by exact full name among `rows`, or why not. */
export function resolve(rows: readonly StoredRow[], text: string): StoredRow | 'ambiguous' | undefined {
  const byId = rows.find((r) => r.id === text);
  if (byId) return byId;
  const byName = rows.filter((r) => r.name_zh === text);
  return byName.length > 1 ? 'ambiguous' : byName[0];
}

/**
 * Names must be unique within a group (institutions: under one parent; enterprises: all). Adds a clash for each
 * record of the file whose name another record bears once the file is applied (the others as stored).
 */
export function checkUniqueNames<K extends string>(
  checker: RowChecker<K>,
  key: K,
  stored: readonly StoredRow[],
  records: Map<number, StoredRow>,
  groupOf: (r: StoredRow) => string,
  what: string,
): void {
  const fileIds = new Set([...records.values()].map((r) => r.id));
  const holders = new Map<string, { id: string; row?: number }[]>();
  const hold = (r: StoredRow, row?: number) => {
    const k = `${groupOf(r)}\u0000${r.name_zh}`;
    holders.set(k, [...(holders.get(k) ?? []), { id: r.id!, ...(row === undefined ? {} : { row }) }]);
  };
  for (const r of stored) if (!fileIds.has(r.id)) hold(r);
  for (const [row, r] of records) hold(r, row);
  for (const [row, r] of records) {
    const other = holders.get(`${groupOf(r)}\u0000${r.name_zh}`)!.find((h) => h.id !== r.id);
    if (!other) continue;
    checker.add(
      row,
      key,
      other.row === undefined
        ? `名称“${r.name_zh}”已为${what} ${other.id} 所用`
        : `名称“${r.name_zh}”与第 ${other.row} 行重复`,
      true,
    );
    records.delete(row);
  }
}

export function withoutBlanks<K extends string>(
  cells: Record<K, string | null | undefined>,
): Partial<Record<K, string>> {
  return Object.fromEntries(Object.entries(cells).filter(([, v]) => typeof v === 'string' && v !== '')) as Partial<
    Record<K, string>
  >;
}

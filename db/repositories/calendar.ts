import type { Db } from '../knex.js';
import {
  assertDay,
  statutoryArrangement,
  WorkingCalendar,
  yearOf,
  isWeekend,
  type Day,
  type DayOverride,
  type YearArrangement,
} from '../../domain/calendar/index.js';

export interface CalendarSnapshot {
  /** The calendar version: the newest arrangement id when the snapshot was taken. */
  version: number;
  calendar: WorkingCalendar;
}

export interface OfficialArrangementInput {
  year: number;
  holidays: { date: string; name: string }[];
  workdays: { date: string; name: string }[];
  reference?: string | undefined;
  enteredBy: string;
}

/** Records a new version of one year's arrangement with its days; returns the version id. */
export async function insertCalendarVersion(
  db: Db,
  version: { year: number; source: string; reference: string | null; enteredBy: string },
  days: { day: string; kind: DayOverride['kind']; name: string }[],
): Promise<number> {
  const [row] = await db('calendar_versions')
    .insert({ year: version.year, source: version.source, reference: version.reference, entered_by: version.enteredBy })
    .returning<{ id: number }[]>('id');
  const versionId = row!.id;
  if (days.length > 0) await db('calendar_days').insert(days.map((d) => ({ version_id: versionId, ...d })));
  return versionId;
}

export class CalendarInputError extends Error {
  override name = 'CalendarInputError';
}

/**
 * The working-day calendar kept in PostgreSQL. Each change (seed, staff entry) is a new version; a
 * snapshot is the calendar as of one version, so every computed deadline can say which one produced it.
 */
export class CalendarRepository {
  private cached: CalendarSnapshot | undefined;

  constructor(private readonly db: Db) {}

  async currentVersion(): Promise<number> {
    const row = await this.db('calendar_versions').max<{ max: number | null }[]>('id as max').first();
    return row?.max ?? 0;
  }

  async snapshot(): Promise<CalendarSnapshot> {
    const version = await this.currentVersion();
    if (this.cached?.version === version) return this.cached;
    const rows: {
      year: number;
      version_id: number;
      source: string;
      day: string | null;
      kind: string | null;
      name: string | null;
    }[] = await this.db
      .with('latest', (q) =>
        q.from('calendar_versions').select('year').max('id as version_id').where('id', '<=', version).groupBy('year'),
      )
      .from('latest')
      .join('calendar_versions as v', 'v.id', 'latest.version_id')
      .leftJoin('calendar_days as d', 'd.version_id', 'latest.version_id')
      .select('latest.year', 'latest.version_id', 'v.source', 'd.day', 'd.kind', 'd.name');
    const years = new Map<number, YearArrangement>();
    for (const row of rows) {
      let arrangement = years.get(row.year);
      if (!arrangement) {
        arrangement = { year: row.year, overrides: new Map(), estimated: false, source: row.source };
        years.set(row.year, arrangement);
      }
      if (row.day && row.kind && row.name) {
        (arrangement.overrides as Map<Day, DayOverride>).set(row.day, {
          kind: row.kind as DayOverride['kind'],
          name: row.name,
        });
      }
    }
    const calendar = new WorkingCalendar((year) => years.get(year) ?? statutoryArrangement(year));
    this.cached = { version, calendar };
    return this.cached;
  }

  /** Enters a year's official arrangement (from the State Council notice); returns the new version. */
  async enterOfficialArrangement(input: OfficialArrangementInput): Promise<number> {
    const seen = new Set<string>();
    const days = [
      ...input.holidays.map((d) => ({ ...d, kind: 'holiday' as const })),
      ...input.workdays.map((d) => ({ ...d, kind: 'workday' as const })),
    ];
    for (const d of days) {
      assertDay(d.date);
      if (yearOf(d.date) !== input.year) {
        throw new CalendarInputError(`${d.date} 不属于 ${input.year} 年`);
      }
      if (seen.has(d.date)) throw new CalendarInputError(`${d.date} 重复出现`);
      seen.add(d.date);
      if (d.kind === 'workday' && !isWeekend(d.date)) {
        throw new CalendarInputError(`${d.date} 不是周末，不能作为调休上班日`);
      }
    }
    return insertCalendarVersion(
      this.db,
      { year: input.year, source: 'official', reference: input.reference ?? null, enteredBy: input.enteredBy },
      days.map((d) => ({ day: d.date, kind: d.kind, name: d.name })),
    );
  }

  /** A year's arrangement as the current snapshot sees it (official, bundled, or the statutory estimate). */
  async arrangement(year: number): Promise<YearArrangement & { version: number }> {
    const { version, calendar } = await this.snapshot();
    return { ...calendar.arrangement(year), version };
  }
}

import { addDays, formatShanghai, isWeekend, shanghaiInstant, yearOf, type Day } from './days.js';

/** A day that differs from the Monday–Friday rule: a public holiday, or a make-up working weekend (调休). */
export interface DayOverride {
  kind: 'holiday' | 'workday';
  name: string;
}

/** One year's arrangement, as published by the State Council or estimated from the statutory rules. */
export interface YearArrangement {
  year: number;
  overrides: ReadonlyMap<Day, DayOverride>;
  /** True when no official arrangement is known and the statutory holidays were applied instead. */
  estimated: boolean;
  /** Where it came from: 'chinese-days@1.5.7', 'official' (entered by staff), 'statutory'. */
  source: string;
}

export interface PeriodResult {
  firstDay: Day;
  lastDay: Day;
  /** 24:00 Asia/Shanghai on lastDay, i.e. 00:00 of the next day. */
  endsAt: Date;
  endsAtIso: string;
  estimated: boolean;
}

/**
 * One reminder before a deadline (SPEC, cross-cutting: reminders at 09:00 Asia/Shanghai on the k-th working day
 * before it): `k` working days before, on `day` (YYYY-MM-DD), at `at` (ISO with +08:00).
 */
export interface Reminder {
  k: number;
  day: Day;
  at: string;
}

export interface WorkingDayBeforeResult {
  day: Day;
  /** 09:00 Asia/Shanghai (or the given hour) on `day`. */
  at: Date;
  atIso: string;
  estimated: boolean;
}

/** Guards against loops over absurd inputs; ten years of working days is far beyond any procedure. */
const MAX_SCAN_DAYS = 3660;

/**
 * The SPEC's counting rule on the Chinese working-day calendar. Pure: the arrangements are handed in, so
 * the same code serves activities, the API and tests.
 */
export class WorkingCalendar {
  private readonly cache = new Map<number, YearArrangement>();

  constructor(private readonly arrangementFor: (year: number) => YearArrangement) {}

  arrangement(year: number): YearArrangement {
    let found = this.cache.get(year);
    if (!found) {
      found = this.arrangementFor(year);
      this.cache.set(year, found);
    }
    return found;
  }

  isWorkingDay(day: Day): boolean {
    const override = this.arrangement(yearOf(day)).overrides.get(day);
    if (override) return override.kind === 'workday';
    return !isWeekend(day);
  }

  /**
   * A period of N working days starts on the first working day on or after `opens` (the opening day counts
   * when it is a working day) and ends at 24:00 Asia/Shanghai on its N-th working day.
   */
  period(opens: Day, workingDays: number): PeriodResult {
    assertCount(workingDays, 'workingDays');
    const touched = new Set<number>();
    let day = opens;
    let firstDay: Day | undefined;
    let counted = 0;
    for (let scanned = 0; scanned < MAX_SCAN_DAYS; scanned++, day = addDays(day, 1)) {
      touched.add(yearOf(day));
      if (!this.isWorkingDay(day)) continue;
      firstDay ??= day;
      counted += 1;
      if (counted === workingDays) {
        const endsAt = shanghaiInstant(day, 24);
        return {
          firstDay,
          lastDay: day,
          endsAt,
          endsAtIso: formatShanghai(endsAt),
          estimated: this.anyEstimated(touched),
        };
      }
    }
    throw new RangeError(`no ${workingDays} working days found within ${MAX_SCAN_DAYS} days of ${opens}`);
  }

  /** The reminders `ks` working days before `deadlineDay`, each at 09:00 Asia/Shanghai, in the order of `ks`. */
  remindersBefore(deadlineDay: Day, ks: readonly number[]): Reminder[] {
    return ks.map((k) => {
      const r = this.workingDaysBefore(deadlineDay, k);
      return { k, day: r.day, at: r.atIso };
    });
  }

  /** "k working days before a deadline" is `hour`:00 on the k-th working day before the deadline's day. */
  workingDaysBefore(deadlineDay: Day, k: number, hour = 9): WorkingDayBeforeResult {
    assertCount(k, 'workingDaysBefore');
    const touched = new Set<number>([yearOf(deadlineDay)]);
    let day = deadlineDay;
    let counted = 0;
    for (let scanned = 0; scanned < MAX_SCAN_DAYS; scanned++) {
      day = addDays(day, -1);
      touched.add(yearOf(day));
      if (!this.isWorkingDay(day)) continue;
      counted += 1;
      if (counted === k) {
        const at = shanghaiInstant(day, hour);
        return { day, at, atIso: formatShanghai(at), estimated: this.anyEstimated(touched) };
      }
    }
    throw new RangeError(`no ${k} working days found within ${MAX_SCAN_DAYS} days before ${deadlineDay}`);
  }

  private anyEstimated(years: Set<number>): boolean {
    return [...years].some((y) => this.arrangement(y).estimated);
  }
}

function assertCount(n: number, what: string): void {
  if (!Number.isInteger(n) || n < 1 || n > 1000) throw new RangeError(`${what} must be an integer from 1 to 1000`);
}

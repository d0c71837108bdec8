import { createRequire } from 'node:module';
import type { Day, DayOverride, YearArrangement } from '../../domain/calendar/index.js';

const require = createRequire(import.meta.url);

/** Where the bundled arrangements come from, recorded as the source of their calendar versions. */
export const CHINESE_DAYS_SOURCE = `chinese-days@${(require('chinese-days/package.json') as { version: string }).version}`;

interface ChineseDaysData {
  holidays: Record<string, string>;
  workdays: Record<string, string>;
}

export interface BundledDay {
  day: Day;
  kind: DayOverride['kind'];
  name: string;
}

/** The State Council arrangements chinese-days carries (2004 onwards), by year. */
export function bundledCalendarDays(): Map<number, BundledDay[]> {
  const data = require('chinese-days/dist/chinese-days.json') as ChineseDaysData;
  const byYear = new Map<number, BundledDay[]>();
  const add = (day: string, kind: DayOverride['kind'], label: string) => {
    const year = Number(day.slice(0, 4));
    // Labels read "National Day,国庆节,3": keep the Chinese name.
    const name = label.split(',')[1] ?? label;
    const list = byYear.get(year) ?? [];
    list.push({ day, kind, name });
    byYear.set(year, list);
  };
  for (const [day, label] of Object.entries(data.holidays)) add(day, 'holiday', label);
  for (const [day, label] of Object.entries(data.workdays)) add(day, 'workday', label);
  return byYear;
}

/** The bundled data as arrangements, for code that needs a calendar without a database (unit tests). */
export function bundledArrangements(): Map<number, YearArrangement> {
  const result = new Map<number, YearArrangement>();
  for (const [year, days] of bundledCalendarDays()) {
    result.set(year, {
      year,
      overrides: new Map(days.map((d) => [d.day, { kind: d.kind, name: d.name }])),
      estimated: false,
      source: CHINESE_DAYS_SOURCE,
    });
  }
  return result;
}

import chineseDays from 'chinese-days';
import { addDays, isWeekend, makeDay, type Day } from './days.js';
import type { DayOverride, YearArrangement } from './working-calendar.js';

/**
 * The statutory public holidays of 《全国年节及纪念日放假办法》 (as revised in 2024, in force from 2025):
 * 元旦 1 day, 春节 4 days (除夕 to 初三), 清明 1 day, 劳动节 2 days, 端午 1 day, 中秋 1 day, 国庆 3 days.
 * Its article 6 gives a weekday off for a holiday that falls on a weekend (补假); the estimate applies it,
 * which errs towards later deadlines. The State Council's yearly arrangement (with 调休 working weekends)
 * replaces the estimate once staff enter it.
 */
export function statutoryArrangement(year: number): YearArrangement {
  if (!Number.isInteger(year) || year < 1901 || year > 2099) {
    throw new RangeError(`no lunar calendar data for ${year}; years 1901–2099 are supported`);
  }
  const holidays: [Day, string][] = [];
  const add = (first: Day, days: number, name: string) => {
    for (let i = 0; i < days; i++) holidays.push([addDays(first, i), name]);
  };
  const springFestival = lunarToSolar(year, 1, 1);
  add(makeDay(year, 1, 1), 1, '元旦');
  add(addDays(springFestival, -1), 4, '春节');
  add(qingming(year), 1, '清明');
  add(makeDay(year, 5, 1), 2, '劳动节');
  add(lunarToSolar(year, 5, 5), 1, '端午');
  add(lunarToSolar(year, 8, 15), 1, '中秋');
  add(makeDay(year, 10, 1), 3, '国庆节');

  const overrides = new Map<Day, DayOverride>();
  for (const [day, name] of holidays) overrides.set(day, { kind: 'holiday', name });
  for (const [day, name] of holidays) {
    if (!isWeekend(day)) continue;
    let substitute = addDays(day, 1);
    while (isWeekend(substitute) || overrides.has(substitute)) substitute = addDays(substitute, 1);
    overrides.set(substitute, { kind: 'holiday', name: `${name}（补假）` });
  }
  return { year, overrides, estimated: true, source: 'statutory' };
}

/** Solar date of a day in the lunar calendar (non-leap month). */
function lunarToSolar(lunarYear: number, lunarMonth: number, lunarDay: number): Day {
  // chinese-days reads the parts of its argument in the host's local time; a local Date keeps them intact
  // whatever the host's time zone, and its answer is formatted in the same local time.
  const { date } = chineseDays.getSolarDateFromLunar(new Date(lunarYear, lunarMonth - 1, lunarDay));
  const [y, m, d] = date.split('-').map(Number) as [number, number, number];
  return makeDay(y, m, d);
}

/** 清明 (the solar term pure brightness) by the standard formula: floor(Y·0.2422 + C) − floor(Y/4). */
export function qingming(year: number): Day {
  const y = year % 100;
  const c = year >= 2000 ? 4.81 : 5.59;
  return makeDay(year, 4, Math.floor(y * 0.2422 + c) - Math.floor(y / 4));
}

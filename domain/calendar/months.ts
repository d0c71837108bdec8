/**
 * Calendar arithmetic in whole months on `YYYY-MM-DD` days (pure; no time zone involved): the periods the SPEC
 * counts in months or years — rectification (限期整改), a project's duration and extension, a revocation's ban.
 */

/**
 * The same day `months` later (`months` may be 0 or negative); a day the target month lacks falls back to its
 * last day (31 → 30, 29 Feb → 28 Feb).
 *
 * @param day `YYYY-MM-DD`
 * @returns `YYYY-MM-DD`
 */
export function sameDayMonthsLater(day: string, months: number): string {
  const [y, m, d] = day.split('-').map(Number) as [number, number, number];
  const target = new Date(Date.UTC(y, m - 1 + months, 1));
  const lastDay = new Date(Date.UTC(target.getUTCFullYear(), target.getUTCMonth() + 1, 0)).getUTCDate();
  target.setUTCDate(Math.min(d, lastDay));
  return target.toISOString().slice(0, 10);
}

/**
 * The same day `years` later (29 February falls back to 28 February).
 *
 * @param day `YYYY-MM-DD`
 * @returns `YYYY-MM-DD`
 */
export function sameDayYearsLater(day: string, years: number): string {
  return sameDayMonthsLater(day, years * 12);
}

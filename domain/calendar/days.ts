/**
 * Calendar days as 'YYYY-MM-DD' strings, and instants in Asia/Shanghai. China has kept UTC+8 without
 * daylight saving since 1991, so every conversion here is a fixed offset and independent of the host's
 * time zone.
 */
export type Day = string;

export const SHANGHAI_OFFSET = '+08:00';
const OFFSET_MS = 8 * 60 * 60 * 1000;
const DAY_MS = 24 * 60 * 60 * 1000;
const DAY_PATTERN = /^(\d{4})-(\d{2})-(\d{2})$/;

export function isDay(value: string): value is Day {
  const m = DAY_PATTERN.exec(value);
  if (!m) return false;
  const date = new Date(Date.UTC(Number(m[1]), Number(m[2]) - 1, Number(m[3])));
  return date.toISOString().slice(0, 10) === value;
}

export function assertDay(value: string): Day {
  if (!isDay(value)) throw new RangeError(`not a calendar day (YYYY-MM-DD): ${String(value)}`);
  return value;
}

function toUtcMs(day: Day): number {
  return Date.parse(`${assertDay(day)}T00:00:00Z`);
}

function fromUtcMs(ms: number): Day {
  return new Date(ms).toISOString().slice(0, 10);
}

export function addDays(day: Day, n: number): Day {
  return fromUtcMs(toUtcMs(day) + n * DAY_MS);
}

/** 0 = Sunday … 6 = Saturday. */
export function weekday(day: Day): number {
  return new Date(toUtcMs(day)).getUTCDay();
}

export function isWeekend(day: Day): boolean {
  const w = weekday(day);
  return w === 0 || w === 6;
}

export function yearOf(day: Day): number {
  return Number(day.slice(0, 4));
}

export function makeDay(year: number, month: number, date: number): Day {
  return fromUtcMs(Date.UTC(year, month - 1, date));
}

/** The Shanghai calendar day an instant falls on. */
export function shanghaiDayOf(instant: Date): Day {
  return fromUtcMs(instant.getTime() + OFFSET_MS);
}

/** The instant of `hh:mm` Asia/Shanghai on `day`; 24:00 is the start of the next day. */
export function shanghaiInstant(day: Day, hours: number, minutes = 0): Date {
  return new Date(toUtcMs(day) - OFFSET_MS + (hours * 60 + minutes) * 60 * 1000);
}

/** ISO 8601 with the +08:00 offset, e.g. 2026-10-13T00:00:00+08:00. */
export function formatShanghai(instant: Date): string {
  const shifted = new Date(instant.getTime() + OFFSET_MS).toISOString();
  return `${shifted.slice(0, 19)}${SHANGHAI_OFFSET}`;
}

/** 2026年10月12日 */
export function formatDayZh(day: Day): string {
  const [y, m, d] = day.split('-').map(Number);
  return `${y}年${m}月${d}日`;
}

/** 2026年10月12日 24:00 / 2026年10月8日 09:00 (Shanghai wall time; midnight is written as 24:00 of the day before). */
export function formatInstantZh(instant: Date): string {
  const shifted = new Date(instant.getTime() + OFFSET_MS);
  const hh = shifted.getUTCHours();
  const mm = shifted.getUTCMinutes();
  if (hh === 0 && mm === 0 && shifted.getUTCSeconds() === 0) {
    return `${formatDayZh(addDays(fromUtcMs(shifted.getTime()), -1))} 24:00`;
  }
  return `${formatDayZh(fromUtcMs(shifted.getTime()))} ${String(hh).padStart(2, '0')}:${String(mm).padStart(2, '0')}`;
}

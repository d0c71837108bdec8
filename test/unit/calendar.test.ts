import { describe, expect, it } from 'vitest';
import {
  formatInstantZh,
  formatShanghai,
  shanghaiDayOf,
  shanghaiInstant,
  statutoryArrangement,
  WorkingCalendar,
  qingming,
} from '../../domain/calendar/index.js';
import { bundledArrangements } from '../../db/seeds/bundled-calendar.js';

const bundled = bundledArrangements();
const calendar = () => new WorkingCalendar((year) => bundled.get(year) ?? statutoryArrangement(year));

describe('working-day calendar (the SPEC counting rule)', () => {
  it('when a 5-working-day period opens on Wed 2026-09-30, then it skips 国庆 and ends on 2026-10-12', () => {
    const p = calendar().period('2026-09-30', 5);
    expect(p).toMatchObject({ firstDay: '2026-09-30', lastDay: '2026-10-12', estimated: false });
    // 10-10 is a 调休 Saturday and counts; the period ends at 24:00 on its last day.
    expect(p.endsAtIso).toBe('2026-10-13T00:00:00+08:00');
  });

  it('when a 3-working-day period opens on Fri 2025-01-24, then the 调休 Sunday 01-26 counts and it ends on 2025-01-27', () => {
    expect(calendar().period('2025-01-24', 3)).toMatchObject({ firstDay: '2025-01-24', lastDay: '2025-01-27' });
  });

  it('when a period opens on a holiday, then it starts on the first working day after it', () => {
    expect(calendar().period('2026-10-03', 1)).toMatchObject({ firstDay: '2026-10-08', lastDay: '2026-10-08' });
  });

  it('when a period opens on a working day, then that day counts as day one', () => {
    expect(calendar().period('2026-11-30', 1)).toMatchObject({ firstDay: '2026-11-30', lastDay: '2026-11-30' });
  });

  it('3 working days before 2026-10-12 is 09:00 on 2026-10-08', () => {
    const r = calendar().workingDaysBefore('2026-10-12', 3);
    expect(r.day).toBe('2026-10-08');
    expect(r.atIso).toBe('2026-10-08T09:00:00+08:00');
  });

  it('when reminders are asked 7, 3 and 1 working days before 2026-10-12, then they skip the Mid-Autumn and National Day holidays', () => {
    expect(calendar().remindersBefore('2026-10-12', [7, 3, 1])).toEqual([
      { k: 7, day: '2026-09-24', at: '2026-09-24T09:00:00+08:00' },
      { k: 3, day: '2026-10-08', at: '2026-10-08T09:00:00+08:00' },
      { k: 1, day: '2026-10-10', at: '2026-10-10T09:00:00+08:00' },
    ]);
  });

  it('1 working day before 2025-02-10 is the 调休 Saturday 2025-02-08', () => {
    expect(calendar().workingDaysBefore('2025-02-10', 1).day).toBe('2025-02-08');
  });

  it('when no arrangement exists for 2030, then the statutory holidays apply and every result is estimated', () => {
    const cal = calendar();
    for (const day of [
      '2030-01-01',
      '2030-02-02',
      '2030-02-03',
      '2030-02-04',
      '2030-02-05',
      '2030-10-01',
      '2030-10-02',
      '2030-10-03',
    ]) {
      expect(cal.isWorkingDay(day), day).toBe(false);
    }
    expect(cal.isWorkingDay('2030-01-02')).toBe(true);
    expect(cal.period('2030-03-04', 5).estimated).toBe(true);
    expect(cal.workingDaysBefore('2030-03-11', 1).estimated).toBe(true);
    expect(cal.period('2026-12-28', 10).estimated).toBe(true); // crosses into an estimated year
    expect(cal.period('2026-11-02', 5).estimated).toBe(false);
  });

  it('when a statutory holiday falls on a weekend, then the estimate gives the next working day off (补假)', () => {
    const a = statutoryArrangement(2030);
    // 除夕 2030-02-02 is a Saturday and 初一 a Sunday: two substitute days follow the festival.
    expect(a.overrides.get('2030-02-06')).toEqual({ kind: 'holiday', name: '春节（补假）' });
    expect(a.overrides.get('2030-02-07')).toEqual({ kind: 'holiday', name: '春节（补假）' });
  });

  it('computes the lunar festivals and 清明 of the statutory estimate', () => {
    const names = (year: number) =>
      Object.fromEntries(
        [...statutoryArrangement(year).overrides]
          .filter(([, o]) => !o.name.includes('补假'))
          .map(([d, o]) => [d, o.name]),
      );
    // Checked against the official arrangements of 2025 and 2026 (their festival days).
    expect(names(2025)).toMatchObject({
      '2025-01-28': '春节',
      '2025-01-29': '春节',
      '2025-04-04': '清明',
      '2025-05-31': '端午',
      '2025-10-06': '中秋',
    });
    expect(names(2026)).toMatchObject({
      '2026-02-16': '春节',
      '2026-02-17': '春节',
      '2026-04-05': '清明',
      '2026-06-19': '端午',
      '2026-09-25': '中秋',
    });
    expect(qingming(2030)).toBe('2030-04-05');
  });

  it('gives the same estimate whatever the host time zone', () => {
    const original = process.env.TZ;
    try {
      const results = ['Asia/Shanghai', 'America/Los_Angeles', 'Pacific/Kiritimati', 'UTC'].map((tz) => {
        process.env.TZ = tz;
        return JSON.stringify([...statutoryArrangement(2031).overrides]);
      });
      expect(new Set(results).size).toBe(1);
    } finally {
      process.env.TZ = original;
    }
  });

  it('rejects counts outside 1..1000 and years without lunar data', () => {
    expect(() => calendar().period('2026-01-05', 0)).toThrow(RangeError);
    expect(() => statutoryArrangement(2100)).toThrow(RangeError);
  });
});

describe('Shanghai instants', () => {
  it('maps days and instants at a fixed +08:00', () => {
    expect(shanghaiInstant('2026-10-12', 24).toISOString()).toBe('2026-10-12T16:00:00.000Z');
    expect(formatShanghai(new Date('2026-10-12T16:00:00Z'))).toBe('2026-10-13T00:00:00+08:00');
    expect(shanghaiDayOf(new Date('2026-10-12T15:59:59Z'))).toBe('2026-10-12');
    expect(shanghaiDayOf(new Date('2026-10-12T16:00:00Z'))).toBe('2026-10-13');
  });

  it('writes midnight as 24:00 of the day before, the way a deadline is announced', () => {
    expect(formatInstantZh(shanghaiInstant('2026-10-12', 24))).toBe('2026年10月12日 24:00');
    expect(formatInstantZh(shanghaiInstant('2026-10-08', 9))).toBe('2026年10月8日 09:00');
  });
});

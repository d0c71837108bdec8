import { describe, expect, it } from 'vitest';
import { yearlyDayProblem } from '../../api/routes/schedule.js';

describe('yearly Schedule days (issue 14, point 7)', () => {
  it('accepts every day a common year has, the last of February included', () => {
    for (let month = 1; month <= 12; month++) {
      const last = new Date(Date.UTC(2023, month, 0)).getUTCDate();
      for (let day = 1; day <= last; day++) expect(yearlyDayProblem(month, day), `${month}/${day}`).toBeUndefined();
    }
  });

  it('refuses 29 February, saying it is not every year, and days no year has', () => {
    expect(yearlyDayProblem(2, 29)).toMatch(/^2月29日并非每年都有/);
    expect(yearlyDayProblem(2, 30)).toBe('2月没有30日，请选择每年都有的日期（2月至多28日）');
    expect(yearlyDayProblem(4, 31)).toBe('4月没有31日，请选择每年都有的日期（4月至多30日）');
  });
});

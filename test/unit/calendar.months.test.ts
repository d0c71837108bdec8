import { describe, expect, it } from 'vitest';
import { sameDayMonthsLater, sameDayYearsLater } from '../../domain/calendar/months.js';

describe('calendar months (sameDayMonthsLater, sameDayYearsLater)', () => {
  it('when the day exists in the target month, then it is the same day', () => {
    expect(sameDayMonthsLater('2027-03-15', 6)).toBe('2027-09-15');
  });

  it('when the period crosses a year end, then the year advances', () => {
    expect(sameDayMonthsLater('2027-09-30', 6)).toBe('2028-03-30');
    expect(sameDayMonthsLater('2027-12-01', 1)).toBe('2028-01-01');
  });

  it('when the target month is shorter, then the day falls back to its last day', () => {
    expect(sameDayMonthsLater('2027-08-31', 1)).toBe('2027-09-30');
    expect(sameDayMonthsLater('2027-01-31', 1)).toBe('2027-02-28');
    expect(sameDayMonthsLater('2028-01-31', 1)).toBe('2028-02-29');
  });

  it('when months is 0, then the day is unchanged', () => {
    expect(sameDayMonthsLater('2027-05-20', 0)).toBe('2027-05-20');
  });

  it('when months is negative, then it counts back', () => {
    expect(sameDayMonthsLater('2027-03-31', -1)).toBe('2027-02-28');
  });

  it('when a period of years starts on 29 February, then it ends on 28 February', () => {
    expect(sameDayYearsLater('2028-02-29', 5)).toBe('2033-02-28');
    expect(sameDayYearsLater('2028-02-29', 4)).toBe('2032-02-29');
    expect(sameDayYearsLater('2027-06-10', 2)).toBe('2029-06-10');
  });
});

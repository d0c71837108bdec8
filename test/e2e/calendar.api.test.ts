import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestStack, type TestStack } from '../support/stack.js';

let stack: TestStack;
let staff: string;

beforeAll(async () => {
  stack = await startTestStack();
  staff = await stack.token({ role: 'staff', id: 'calendar-officer' });
});

afterAll(async () => {
  await stack?.stop();
});

interface Period {
  firstDay: string;
  lastDay: string;
  endsAt: string;
  estimated: boolean;
  calendarVersion: number;
}

const period = (opens: string, n: number) =>
  stack.request<Period>('GET', `/api/calendar/period?opens=${opens}&workingDays=${n}`);
const reminder = (day: string, k: number) =>
  stack.request<{ day: string; at: string; estimated: boolean; calendarVersion: number }>(
    'GET',
    `/api/calendar/reminder?deadlineDay=${day}&workingDaysBefore=${k}`,
  );

describe('calendar endpoints on the PostgreSQL calendar', () => {
  it('answers the counting-rule examples', async () => {
    const a = await period('2026-09-30', 5);
    expect(a.status).toBe(200);
    expect(a.body).toMatchObject({
      firstDay: '2026-09-30',
      lastDay: '2026-10-12',
      endsAt: '2026-10-13T00:00:00+08:00',
      estimated: false,
    });
    expect(a.body.calendarVersion).toBeGreaterThan(0);
    expect((await period('2025-01-24', 3)).body).toMatchObject({ lastDay: '2025-01-27', estimated: false });
    expect((await reminder('2026-10-12', 3)).body).toMatchObject({
      day: '2026-10-08',
      at: '2026-10-08T09:00:00+08:00',
      estimated: false,
    });
    expect((await reminder('2025-02-10', 1)).body).toMatchObject({
      day: '2025-02-08',
      at: '2025-02-08T09:00:00+08:00',
    });
  });

  it('when a year has no arrangement (2030), then the statutory holidays apply and results are marked estimated', async () => {
    const year = await stack.request<{ estimated: boolean; source: string; days: { date: string; kind: string }[] }>(
      'GET',
      '/api/calendar/years/2030',
    );
    expect(year.body).toMatchObject({ estimated: true, source: 'statutory' });
    const holidays = year.body.days.filter((d) => d.kind === 'holiday').map((d) => d.date);
    expect(holidays).toEqual(
      expect.arrayContaining([
        '2030-01-01',
        '2030-02-02',
        '2030-02-03',
        '2030-02-04',
        '2030-02-05',
        '2030-10-01',
        '2030-10-02',
        '2030-10-03',
      ]),
    );
    // 2030-01-01 is a holiday: a period opening that day starts on the 2nd.
    expect((await period('2030-01-01', 1)).body).toMatchObject({ firstDay: '2030-01-02', estimated: true });
    expect((await period('2030-09-30', 3)).body).toMatchObject({ lastDay: '2030-10-07', estimated: true });
  });

  it('when staff enter 2030’s official arrangement, then later computations use it, are no longer estimated, and carry the new version', async () => {
    const before = await period('2030-09-30', 3);
    const put = await stack.request<{ calendarVersion: number }>('PUT', '/api/calendar/years/2030', {
      token: staff,
      body: {
        reference: '国务院办公厅关于2030年部分节假日安排的通知（测试录入）',
        holidays: [
          { date: '2030-01-01', name: '元旦' },
          ...['2030-10-01', '2030-10-02', '2030-10-03', '2030-10-04', '2030-10-05', '2030-10-06', '2030-10-07'].map(
            (date) => ({
              date,
              name: '国庆节',
            }),
          ),
        ],
        workdays: [
          { date: '2030-09-29', name: '国庆节' },
          { date: '2030-10-12', name: '国庆节' },
        ],
      },
    });
    expect(put.status).toBe(200);
    expect(put.body.calendarVersion).toBeGreaterThan(before.body.calendarVersion);

    const after = await period('2030-09-30', 3);
    // 09-30 (1), holidays to 10-07, 10-08 (2), 10-09 (3).
    expect(after.body).toMatchObject({
      firstDay: '2030-09-30',
      lastDay: '2030-10-09',
      estimated: false,
      calendarVersion: put.body.calendarVersion,
    });
    // The entered 2030 no longer has the estimate's 春节, as staff entered none.
    expect((await period('2030-02-04', 1)).body).toMatchObject({ firstDay: '2030-02-04', estimated: false });

    const audit = await stack.database
      .db('audit_events')
      .where({ action: 'calendar.enter_arrangement', subject_id: '2030' });
    expect(audit).toHaveLength(1);
    expect(audit[0]).toMatchObject({ actor: 'staff:calendar-officer', role: 'staff' });
  });

  it.each([
    [
      'a make-up working day on a weekday',
      { holidays: [], workdays: [{ date: '2031-03-05', name: '调休' }] },
      422,
      'CALENDAR_INVALID',
    ],
    [
      'a day from another year',
      { holidays: [{ date: '2032-01-01', name: '元旦' }], workdays: [] },
      422,
      'CALENDAR_INVALID',
    ],
    [
      'the same day twice',
      {
        holidays: [
          { date: '2031-01-01', name: '元旦' },
          { date: '2031-01-01', name: '元旦' },
        ],
        workdays: [],
      },
      422,
      'CALENDAR_INVALID',
    ],
    ['a malformed date', { holidays: [{ date: '2031-02-30', name: '假' }], workdays: [] }, 422, 'VALIDATION_FAILED'],
  ])('refuses an arrangement with %s', async (_what, body, status, code) => {
    const res = await stack.request<{ code: string; title: string }>('PUT', '/api/calendar/years/2031', {
      token: staff,
      body,
    });
    expect(res.status).toBe(status);
    expect(res.body.code).toBe(code);
    expect(res.contentType).toContain('application/problem+json');
  });

  it('lets only staff enter an arrangement, and refuses absurd queries', async () => {
    const expert = await stack.token({ role: 'expert', id: 'exp-001' });
    const denied = await stack.request<{ code: string }>('PUT', '/api/calendar/years/2031', {
      token: expert,
      body: { holidays: [], workdays: [] },
    });
    expect([denied.status, denied.body.code]).toEqual([403, 'FORBIDDEN']);
    const tooMany = await stack.request<{ code: string }>('GET', '/api/calendar/period?opens=2026-01-05&workingDays=0');
    expect([tooMany.status, tooMany.body.code]).toEqual([422, 'VALIDATION_FAILED']);
    const noLunar = await stack.request<{ code: string; detail: string }>(
      'GET',
      '/api/calendar/period?opens=2099-12-20&workingDays=30',
    );
    expect([noLunar.status, noLunar.body.code]).toEqual([422, 'CALENDAR_YEAR_UNSUPPORTED']);
    // The detail is zh-CN and says what was asked (it was the calendar's English RangeError message).
    expect(noLunar.body.detail).toBe(
      '从 2099-12-20 起算 30 个工作日超出了可计算的年份（1901—2099 年），请调整日期或工作日数',
    );
    const noLunarBefore = await stack.request<{ code: string; detail: string }>(
      'GET',
      '/api/calendar/reminder?deadlineDay=1901-01-03&workingDaysBefore=5',
    );
    expect([noLunarBefore.status, noLunarBefore.body.detail]).toEqual([
      422,
      '1901-01-03 前第 5 个工作日超出了可计算的年份（1901—2099 年），请调整日期或工作日数',
    ]);
  });
});

import { describe, expect, it } from 'vitest';
import { shanghaiInstant } from '../../domain/calendar/index.js';
import { callNotice, callReminder, deadlineChanged, deadlineExtended } from '../../mail/templates.js';

const base = {
  institutionName: '郑州大学',
  roundTitle: '2027年度产教融合示范高校申报',
  programmeName: '产教融合示范高校',
  year: 2027,
  deadline: shanghaiInstant('2027-03-26', 24),
};

describe('zh-CN notices', () => {
  it('says 预计 in every notice whose deadline comes from an estimated calendar', () => {
    const estimated = { ...base, deadlineEstimated: true };
    const emails = [
      callNotice({ ...estimated, opensAt: shanghaiInstant('2027-03-01', 9), quotaNote: '每年遴选认定 3–5 所' }),
      callReminder({ ...estimated, workingDaysLeft: 3 }),
      deadlineExtended({ ...estimated, previous: shanghaiInstant('2027-03-19', 24), reason: '材料准备时间不足' }),
    ];
    for (const e of emails) {
      expect(e.subject).toContain('预计');
      expect(e.text).toContain('2027年3月26日 24:00（预计');
    }
  });

  it('says nothing of an estimate once the calendar is official', () => {
    const e = callReminder({ ...base, deadlineEstimated: false, workingDaysLeft: 1 });
    expect(e.subject).toBe('【申报提醒】2027年度产教融合示范高校申报将于1个工作日后截止');
    expect(e.text).not.toContain('预计');
  });

  it('announces a deadline moved by the official arrangement with both days', () => {
    const e = deadlineChanged({ ...base, deadlineEstimated: false, previous: shanghaiInstant('2027-03-24', 24) });
    expect(e.text).toContain('由 2027年3月24日 24:00（预计）调整为 2027年3月26日 24:00');
  });
});

import { WorkflowUpdateFailedError, type WorkflowHandle } from '@temporalio/client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createApplication } from '../../db/repositories/round.applications.js';
import { CalendarRepository } from '../../db/repositories/calendar.js';
import { universities, universityEmail } from '../../db/seeds/reference-data.js';
import { extendDeadlineUpdate, submitApplicationUpdate, type RoundState } from '../../workflows/round.messages.js';
import type { RoundWorkflow } from '../../workflows/round.messages.js';
import { recipientPurposePairs } from '../support/mailbox.js';
import { attachApplicationForm, insertDemoRound } from '../support/round.demo.js';
import { startTimeSkippingStack, type TimeSkippingStack } from '../support/time-skipping.js';
import { eventually } from '../support/wait.js';

const TASK_QUEUE = 'ronghe-time-skipping';
const ROUND = 'round-demo_university-2027';

let stack: TimeSkippingStack;

beforeAll(async () => {
  stack = await startTimeSkippingStack({ taskQueue: TASK_QUEUE });
});

afterAll(async () => {
  await stack?.stop();
});

const skipTo = (shanghai: string) => stack.skipTo(shanghai);
const nowIso = () => stack.nowIso();

interface OutboxRow {
  recipient: string;
  purpose: string;
  due_at: Date | null;
}

async function reminderRows(): Promise<string[]> {
  const rows = await stack.database
    .db('email_outbox')
    .where({ workflow_id: ROUND, purpose: 'call_reminder', status: 'sent' })
    .select<OutboxRow[]>('recipient', 'purpose', 'due_at');
  return rows.map((r) => `${r.recipient} ${r.purpose} ${r.due_at!.toISOString()}`).sort();
}

const all = universities.map((u) => u.id);
const expected = (ids: string[], at: string) =>
  ids.map((id) => `${universityEmail(id)} call_reminder ${new Date(at).toISOString()}`);

async function submit(
  handle: WorkflowHandle<RoundWorkflow>,
  applicationId: string,
  institutionId: string,
  receivedAt: string,
) {
  return handle.executeUpdate(submitApplicationUpdate, {
    args: [{ applicationId, institutionId, receivedAt, actor: `applicant:${institutionId}` }],
  });
}

describe('a round over real calendar durations (time-skipping server)', () => {
  it('sends reminders at 09:00 on exactly the 7th, 3rd and 1st working day before the deadline, only to institutions without a submission; an extension moves them; receipt time decides at the deadline minute', async () => {
    // Staff enter 2027's arrangement (a future year: the server's clock starts today). The deadline, Tue
    // 2027-04-06, falls just after 清明 (Sat 04-03 to Mon 04-05); Sun 03-28 is a make-up working day (调休).
    const calendar = new CalendarRepository(stack.database.db);
    const version = await calendar.enterOfficialArrangement({
      year: 2027,
      holidays: [
        { date: '2027-01-01', name: '元旦' },
        ...['2027-04-03', '2027-04-04', '2027-04-05'].map((date) => ({ date, name: '清明节' })),
        ...['2027-05-01', '2027-05-02', '2027-05-03', '2027-05-04', '2027-05-05'].map((date) => ({
          date,
          name: '劳动节',
        })),
      ],
      workdays: [{ date: '2027-03-28', name: '清明节' }],
      reference: '测试录入的 2027 年节假日安排',
      enteredBy: 'staff:test',
    });

    const input = await insertDemoRound(stack.database.db);
    const apps = new Map<string, string>();
    // Every application keeps the rules judged at submission (an incomplete one is refused then, issue 14 point
    // 10); henu's, haust's and htu's 申报书 will be lost from storage after submission, which only the formal check
    // after the deadline finds.
    for (const id of ['zzu', 'henu', 'haust', 'htu', 'haut']) {
      const app = await createApplication(stack.database.db, {
        roundId: ROUND,
        institutionId: id,
        createdBy: `applicant:${id}`,
        draft: {
          title: `${id} 产教融合示范高校建设方案`,
          field: 'next_gen_it',
          summary:
            '以新一代信息技术为牵引，联合超聚变等企业共建现代产业学院与研发中心，推动人才培养与产业需求对接，形成可复制推广的校企协同育人机制。',
        },
      });
      await attachApplicationForm(stack.database.db, stack.attachments, app.id, id);
      apps.set(id, app.id);
    }

    const handle = await stack.env.client.workflow.start<RoundWorkflow>('roundWorkflow', {
      workflowId: ROUND,
      taskQueue: TASK_QUEUE,
      args: [input],
    });
    const state = () => handle.query<RoundState>('getRound');
    const scheduled = await eventually(async () => ((await state()).stage === 'scheduled' ? state() : undefined));
    expect(scheduled.deadline).toMatchObject({
      day: '2027-04-06',
      at: '2027-04-07T00:00:00+08:00',
      estimated: false,
      calendarVersion: version,
    });
    expect(scheduled.upcomingReminders).toEqual([
      { k: 7, day: '2027-03-26', at: '2027-03-26T09:00:00+08:00' },
      { k: 3, day: '2027-03-31', at: '2027-03-31T09:00:00+08:00' },
      { k: 1, day: '2027-04-02', at: '2027-04-02T09:00:00+08:00' },
    ]);

    // The call opens; zzu submits the next day.
    await skipTo('2027-03-15T09:01:00+08:00');
    await eventually(async () => ((await state()).noticesSent === all.length ? true : undefined));
    await skipTo('2027-03-16T10:00:00+08:00');
    await submit(handle, apps.get('zzu')!, 'zzu', await nowIso());

    // 7 working days before: nothing at 08:59, then everyone but zzu at 09:00.
    await skipTo('2027-03-26T08:59:00+08:00');
    expect(await reminderRows()).toEqual([]);
    await skipTo('2027-03-26T09:01:00+08:00');
    const first = expected(
      all.filter((i) => i !== 'zzu'),
      '2027-03-26T09:00:00+08:00',
    );
    await eventually(async () => ((await reminderRows()).length === first.length ? true : undefined));
    expect(await reminderRows()).toEqual(first.sort());

    // henu submits on the 调休 Sunday; the 3-day reminder skips it too.
    await skipTo('2027-03-28T15:00:00+08:00');
    await submit(handle, apps.get('henu')!, 'henu', await nowIso());
    await skipTo('2027-03-31T08:59:00+08:00');
    expect(await reminderRows()).toHaveLength(first.length);
    await skipTo('2027-03-31T09:01:00+08:00');
    const second = expected(
      all.filter((i) => i !== 'zzu' && i !== 'henu'),
      '2027-03-31T09:00:00+08:00',
    );
    await eventually(async () => ((await reminderRows()).length === first.length + second.length ? true : undefined));

    // Staff extend to Tue 04-13. An extension must be later than the current deadline.
    await skipTo('2027-04-01T10:00:00+08:00');
    const notLater = handle.executeUpdate(extendDeadlineUpdate, {
      args: [{ deadlineDay: '2027-04-05', reason: '测试', receivedAt: await nowIso(), actor: 'staff:test' }],
    });
    const refused = await notLater.catch((e: unknown) => e);
    expect(refused).toBeInstanceOf(WorkflowUpdateFailedError);
    expect((refused as WorkflowUpdateFailedError).cause).toMatchObject({ type: 'DEADLINE_NOT_LATER' });
    const extended = await handle.executeUpdate(extendDeadlineUpdate, {
      args: [
        {
          deadlineDay: '2027-04-13',
          reason: '清明假期后为各校留足准备时间',
          receivedAt: await nowIso(),
          actor: 'staff:test',
        },
      ],
    });
    expect(extended).toMatchObject({ day: '2027-04-13', at: '2027-04-14T00:00:00+08:00', source: 'staff' });
    // The new 7-day reminder (04-01 09:00) has passed; the old deadline's 1-day reminder is dropped.
    expect((await state()).upcomingReminders).toEqual([
      { k: 3, day: '2027-04-08', at: '2027-04-08T09:00:00+08:00' },
      { k: 1, day: '2027-04-12', at: '2027-04-12T09:00:00+08:00' },
    ]);
    await skipTo('2027-04-02T09:01:00+08:00');
    expect(await reminderRows()).toHaveLength(first.length + second.length);

    await skipTo('2027-04-08T09:01:00+08:00');
    const third = expected(
      all.filter((i) => i !== 'zzu' && i !== 'henu'),
      '2027-04-08T09:00:00+08:00',
    );
    await eventually(async () =>
      (await reminderRows()).length === first.length + second.length + third.length ? true : undefined,
    );
    await skipTo('2027-04-12T09:01:00+08:00');
    const fourth = expected(
      all.filter((i) => i !== 'zzu' && i !== 'henu'),
      '2027-04-12T09:00:00+08:00',
    );
    await eventually(async () =>
      (await reminderRows()).length === first.length + second.length + third.length + fourth.length ? true : undefined,
    );
    expect(await reminderRows()).toEqual([...first, ...second, ...third, ...fourth].sort());

    // The deadline minute: received at 23:59:30 → accepted.
    await skipTo('2027-04-13T23:59:30+08:00');
    await expect(submit(handle, apps.get('haust')!, 'haust', await nowIso())).resolves.toMatchObject({ version: 1 });
    // Received at 23:59:50 but processed after midnight, inside the grace window → accepted.
    await skipTo('2027-04-14T00:01:00+08:00');
    await expect(submit(handle, apps.get('htu')!, 'htu', '2027-04-13T15:59:50.000Z')).resolves.toMatchObject({
      version: 1,
    });
    // Received at 00:00:30 → refused, naming the deadline.
    const late = await submit(handle, apps.get('haut')!, 'haut', '2027-04-13T16:00:30.000Z').catch((e: unknown) => e);
    expect(late).toBeInstanceOf(WorkflowUpdateFailedError);
    expect((late as WorkflowUpdateFailedError).cause).toMatchObject({ type: 'DEADLINE_PASSED' });
    expect((late as WorkflowUpdateFailedError).cause!.message).toContain('2027年4月13日 24:00');

    // Three stored 申报书 are lost (the file a row names is gone): judged only at the formal check.
    await stack.database
      .db('attachments')
      .whereIn(
        'application_id',
        ['henu', 'haust', 'htu'].map((id) => apps.get(id)!),
      )
      .update({ storage_key: 'lost/not-there' });
    // After the grace window the formal check runs and the round hands the passing application to review.
    await skipTo('2027-04-14T00:11:00+08:00');
    const reviewing = await eventually(async () => {
      const s = await state();
      return s.stage === 'review' ? s : undefined;
    });
    expect(reviewing.formalCheck).toEqual({ passed: 1, failed: 3 });
    const checked = Object.fromEntries(
      (
        await stack.database
          .db('applications')
          .where({ round_id: ROUND })
          .select<{ institution_id: string; status: string; formal_checked_at: Date | null }[]>(
            'institution_id',
            'status',
            'formal_checked_at',
          )
      ).map((r) => [
        r.institution_id,
        r.status === 'formal_failed' ? 'failed' : r.formal_checked_at ? 'passed' : r.status,
      ]),
    );
    expect(checked).toEqual({ zzu: 'passed', henu: 'failed', haust: 'failed', htu: 'failed', haut: 'draft' });

    const callPurposes = [
      'call_notice',
      'submission_receipt',
      'call_reminder',
      'deadline_extended',
      'formal_check_failed',
    ];
    const accepted = ['zzu', 'henu', 'haust', 'htu'];
    const emails = (
      await stack.mailbox.waitForCount(
        30 + accepted.length + first.length + second.length + third.length + fourth.length + 30 + 3,
      )
    ).filter((e) => callPurposes.includes(e.purpose ?? ''));
    expect(recipientPurposePairs(emails)).toEqual(
      recipientPurposePairs([
        ...all.map((id) => ({ to: universityEmail(id), purpose: 'call_notice' })),
        // One receipt per accepted submission, though each submission's decision was crashed after its commit.
        ...accepted.map((id) => ({ to: universityEmail(id), purpose: 'submission_receipt' })),
        ...[...first, ...second, ...third, ...fourth].map((line) => ({
          to: line.split(' ')[0]!,
          purpose: 'call_reminder',
        })),
        ...all.map((id) => ({ to: universityEmail(id), purpose: 'deadline_extended' })),
        ...['henu', 'haust', 'htu'].map((id) => ({ to: universityEmail(id), purpose: 'formal_check_failed' })),
      ]),
    );
    // The four submissions and the extension were each crashed once after their commit (the default fault):
    // one version each, one extension recorded, its notice once to each (above).
    expect(stack.crashedDecisions).toMatchObject({ recordSubmission: 4, applyExtension: 1 });
    const versions = await stack.database
      .db('application_versions as v')
      .join('applications as a', 'a.id', 'v.application_id')
      .where('a.round_id', ROUND)
      .pluck('a.institution_id');
    expect(versions.sort()).toEqual(['haust', 'henu', 'htu', 'zzu']);
    const extensions = await stack.database
      .db('audit_events')
      .where({ subject_id: ROUND, action: 'round.extend_deadline' })
      .count<{ n: number }[]>('* as n');
    expect(extensions).toEqual([{ n: 1 }]);
  });
});

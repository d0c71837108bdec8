import {
  allHandlersFinished,
  condition,
  continueAsNew,
  executeChild,
  log,
  patched,
  proxyActivities,
  setHandler,
  upsertSearchAttributes,
  workflowInfo,
} from '@temporalio/workflow';
import type { Activities } from '../activities/index.js';
import type { MemberStatus } from '../activities/member.js';
import { formatInstantZh, makeDay, shanghaiDayOf, shanghaiInstant, yearOf } from '../domain/calendar/days.js';
import { calendarTimeFor, wallTimeFor } from '../domain/compressed-time.js';
import { graceMs, PROCESSING_GRACE_SECONDS, RETRY } from './budget.js';
import { superviseChildren } from './children.js';
import { decide, decisions, refusal } from './failures.js';
import { publicityWorkflow } from './publicity.js';
import { reviewWorkflow } from './review.js';
import { InstitutionIdKey, ProgrammeKey, StageKey } from './search-attributes.js';
import { rectificationReviewWorkflowId, removalPublicityWorkflowId } from '../domain/workflow-ids.js';
import {
  evaluationGradedSignal,
  getMemberQuery,
  gradeRectificationUpdate,
  type MemberInput,
  type MemberMemory,
  type MemberState,
  type RectificationGradeRequest,
  type RectificationReportRequest,
  revokeMemberUpdate,
  type RevokeRequest,
  submitRectificationReportUpdate,
} from './member.messages.js';
import { awaitOnTimeReceipts } from './receipts.js';

const acts = proxyActivities<Activities>({ startToCloseTimeout: '1 minute', retry: RETRY });

const ENDED: readonly MemberStatus[] = ['removed', 'revoked'];

/**
 * A directory member (名录成员): one long-lived workflow per directory entry, id `member-<entryId>`, created at
 * 认定. It holds the member's status and runs its elimination (procedure 5): a 不合格 grade from the annual
 * evaluation brings a warning and rectification (限期整改) with a report due at its end; experts re-evaluate
 * the report; a pass restores the member, a fail or no report leads to a publicised removal (appeals on
 * procedural grounds only) and then removal from the directory (出名录). Staff revocation acts at once. The
 * workflow continues as new every calendar year, so its history stays small however many years it lives.
 */
export async function memberWorkflow(input: MemberInput): Promise<MemberState> {
  const { compression } = input;
  const calendarNow = () => new Date(calendarTimeFor(Date.now(), compression));
  const wall = (iso: string) => wallTimeFor(Date.parse(iso), compression);
  const grace = graceMs(PROCESSING_GRACE_SECONDS, compression);
  // A run continued from the version before elimination carries no grades or elimination yet.
  const resumed = input.resume as (Omit<MemberMemory, 'grades'> & Partial<MemberMemory>) | undefined;
  const m: MemberMemory = resumed
    ? { ...resumed, grades: resumed.grades ?? [], elimination: resumed.elimination }
    : {
        status: 'active',
        year: yearOf(shanghaiDayOf(calendarNow())),
        barEndsOn: undefined,
        grades: [],
        elimination: undefined,
        runs: 0,
      };
  m.runs += 1;
  const workflowId = workflowInfo().workflowId;
  const ended = () => ENDED.includes(m.status);
  // A failed review or publicity child: staff are emailed and the member waits for their retry (or its end).
  const children = superviseChildren();
  const state = (): MemberState => ({
    ...m,
    entryId: input.entryId,
    programme: input.programme,
    institutionId: input.institutionId,
    admittedOn: input.admittedOn,
  });
  /** The stage last logged: the status, and the elimination step while one is under way. */
  let logged = `${m.status}/${m.elimination?.stage ?? ''}`;
  /** Logs the member's stage once per change (ops follow a member through its elimination by these lines). */
  const logStage = () => {
    const stage = m.status;
    const elimination = m.elimination?.stage;
    if (`${stage}/${elimination ?? ''}` === logged) return;
    logged = `${stage}/${elimination ?? ''}`;
    log.info('stage changed', { stage, elimination });
  };
  const setStatus = (status: MemberStatus) => {
    m.status = status;
    upsertSearchAttributes({ [StageKey.name]: [`member_${status}`] });
    logStage();
  };
  /** The rectification judged (by the experts, or by staff): passed, active again; failed, removal is publicised. */
  const afterRectification = (passed: boolean) => {
    if (passed) {
      m.elimination = undefined;
      setStatus('active');
    } else {
      m.elimination!.stage = 'removal_publicity';
      logStage();
    }
  };

  /** Set while the rectification report is being closed: a report is refused (closed means closed). */
  let rectificationClosing = false;

  setHandler(getMemberQuery, state);

  setHandler(
    revokeMemberUpdate,
    async (req) => {
      const result = await decide(decisions.revokeMember, {
        entryId: input.entryId,
        workflowId,
        ...req,
        today: shanghaiDayOf(calendarNow()),
      });
      m.barEndsOn = result.barEndsOn;
      setStatus('revoked');
      return result;
    },
    {
      validator: (_req: RevokeRequest) => {
        if (ended())
          throw refusal('MEMBER_NOT_ACTIVE', m.status === 'revoked' ? '该成员已被撤销认定' : '该成员已移出名录');
      },
    },
  );

  setHandler(evaluationGradedSignal, (g) => {
    if (m.grades.some((x) => x.evaluationId === g.evaluationId)) return;
    m.grades.push(g);
    if (g.grade === 'fail' && m.status === 'active' && !m.elimination) {
      m.elimination = {
        stage: 'warning',
        evaluationId: g.evaluationId,
        rectificationId: undefined,
        dueAt: undefined,
        reminders: [],
        reportReceived: false,
      };
      logStage();
    }
  });

  setHandler(
    submitRectificationReportUpdate,
    async (req) => {
      const e = m.elimination!;
      const recorded = await decide(decisions.recordRectificationReport, {
        ...req,
        rectificationId: e.rectificationId!,
        entryId: input.entryId,
      });
      e.reportReceived = true;
      return recorded;
    },
    {
      validator: (req: RectificationReportRequest) => {
        const e = m.elimination;
        if (ended() || !e || e.stage !== 'rectifying' || !e.dueAt || rectificationClosing) {
          throw refusal('RECTIFICATION_NOT_OPEN', '该名录成员当前没有待提交的整改报告');
        }
        const received = calendarTimeFor(Date.parse(req.receivedAt), compression);
        if (Number.isNaN(received) || received > Date.parse(e.dueAt)) {
          throw refusal(
            'DEADLINE_PASSED',
            `整改报告已于 ${formatInstantZh(new Date(e.dueAt))} 截止${Number.isNaN(received) ? '' : `（本次接收时间 ${formatInstantZh(new Date(received))}）`}，不再受理`,
          );
        }
      },
    },
  );

  setHandler(
    gradeRectificationUpdate,
    async (req) => {
      const e = m.elimination!;
      const decided = await decide(decisions.recordRectificationGrade, {
        ...req,
        entryId: input.entryId,
        workflowId,
        rectificationId: e.rectificationId!,
      });
      e.staffPassed = decided.passed;
      return decided;
    },
    {
      validator: (_req: RectificationGradeRequest) => {
        const e = m.elimination;
        if (ended() || !e || e.stage !== 'awaiting_grade' || e.staffPassed !== undefined) {
          throw refusal('GRADE_NOT_PENDING', '该名录成员没有待工作人员认定的整改报告');
        }
      },
    },
  );

  if (m.runs === 1 && !input.resume) {
    upsertSearchAttributes({
      [ProgrammeKey.name]: [input.programme],
      [InstitutionIdKey.name]: [input.institutionId],
      [StageKey.name]: [`member_${m.status}`],
    });
    // Members started by the previous version upserted the stage once more here: kept, so they replay.
    setStatus('active');
    await acts.recordMemberStatus({
      entryId: input.entryId,
      status: 'active',
      at: calendarNow().toISOString(),
      workflowId,
    });
  }

  // This run covers one calendar year; at its end the member continues as new (only while it waits).
  const yearEnds = wallTimeFor(shanghaiInstant(makeDay(m.year + 1, 1, 1), 0).getTime(), compression);
  const base = { entryId: input.entryId, workflowId };

  for (;;) {
    if (ended()) break;
    const e = m.elimination;

    if (!e) {
      await condition(() => ended() || m.elimination !== undefined, Math.max(1, yearEnds - Date.now()));
      if (ended() || m.elimination) continue;
      if (Date.now() >= yearEnds) break;
      continue;
    }

    if (e.stage === 'warning') {
      const r = await acts.startRectification({
        ...base,
        evaluationId: e.evaluationId,
        today: shanghaiDayOf(calendarNow()),
      });
      const now = Date.now();
      e.rectificationId = r.rectificationId;
      e.dueAt = r.dueAt;
      e.reminders = r.reminders.filter((x) => wall(x.at) > now);
      e.stage = 'rectifying';
      setStatus('rectifying');
      continue;
    }

    if (e.stage === 'rectifying') {
      const now = Date.now();
      const closesAt = wall(e.dueAt!) + grace;
      const reminder = e.reminders[0];
      if (reminder && wall(reminder.at) <= now) {
        e.reminders.shift();
        await acts.sendRectificationReminder({ ...base, rectificationId: e.rectificationId!, reminder });
        continue;
      }
      if (now >= closesAt) {
        // Reports received in time finish recording first, those not yet delivered included.
        const dueAt = Date.parse(e.dueAt!);
        await awaitOnTimeReceipts(
          { updates: [submitRectificationReportUpdate.name] },
          (receivedAt) => calendarTimeFor(Date.parse(receivedAt), compression) <= dueAt,
        );
        await condition(allHandlersFinished);
        // From here the report is closed, whatever a receipt time says: nothing is recorded after the close.
        rectificationClosing = true;
        const closed = await acts.closeRectification({ ...base, rectificationId: e.rectificationId! });
        rectificationClosing = false;
        e.stage = closed.reported ? 're_evaluating' : 'removal_publicity';
        logStage();
        continue;
      }
      if (now >= yearEnds) break;
      const next = Math.min(reminder ? wall(reminder.at) : Infinity, closesAt, yearEnds);
      await condition(ended, next - now);
      continue;
    }

    if (e.stage === 're_evaluating') {
      await children.runUnless(ended, () =>
        executeChild(reviewWorkflow, {
          workflowId: rectificationReviewWorkflowId(e.rectificationId!),
          args: [
            {
              subjectKind: 'rectification',
              subjectId: e.rectificationId!,
              programme: input.programme,
              year: yearOf(shanghaiDayOf(calendarNow())),
              compression,
            },
          ],
        }),
      );
      if (ended()) continue;
      const decided = await acts.decideRectification({ ...base, rectificationId: e.rectificationId! });
      // Too few valid expert scores: nothing was decided; staff are asked and decide (never failed for that).
      if (decided.awaitingGrade && patched('rectification-staff-grade')) {
        e.stage = 'awaiting_grade';
        logStage();
        continue;
      }
      afterRectification(decided.passed);
      continue;
    }

    if (e.stage === 'awaiting_grade') {
      await condition(() => ended() || e.staffPassed !== undefined, Math.max(1, yearEnds - Date.now()));
      if (ended()) continue;
      if (e.staffPassed === undefined) {
        if (Date.now() >= yearEnds) break;
        continue;
      }
      await condition(allHandlersFinished);
      afterRectification(e.staffPassed);
      continue;
    }

    if (e.stage === 'removal_publicity') {
      await acts.markRemovalPending({ ...base, rectificationId: e.rectificationId! });
      setStatus('removal_pending');
      const publicity = await children.runUnless(ended, () =>
        executeChild(publicityWorkflow, {
          workflowId: removalPublicityWorkflowId(e.rectificationId!),
          args: [
            {
              subjectKind: 'removal',
              subjectId: e.rectificationId!,
              programme: input.programme,
              year: yearOf(shanghaiDayOf(calendarNow())),
              compression,
            },
          ],
        }),
      );
      if (ended() || !publicity) continue;
      if (publicity.upheld > 0) {
        // A procedural appeal stood: the removal is withdrawn.
        await acts.withdrawRemoval({ ...base, rectificationId: e.rectificationId! });
        m.elimination = undefined;
        setStatus('active');
      } else {
        e.stage = 'removing';
        logStage();
      }
      continue;
    }

    // e.stage === 'removing'
    await acts.removeMember({ ...base, rectificationId: e.rectificationId!, today: shanghaiDayOf(calendarNow()) });
    setStatus('removed');
  }

  await condition(allHandlersFinished);
  if (ended()) return state();
  return continueAsNew<typeof memberWorkflow>({ ...input, resume: { ...m, year: m.year + 1 } });
}

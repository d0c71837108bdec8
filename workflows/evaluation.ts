import {
  allHandlersFinished,
  condition,
  continueAsNew,
  executeChild,
  getExternalWorkflowHandle,
  log,
  proxyActivities,
  setHandler,
  upsertSearchAttributes,
  workflowInfo,
} from '@temporalio/workflow';
import type { Activities } from '../activities/index.js';
import { formatInstantZh, shanghaiDayOf } from '../domain/calendar/days.js';
import { calendarTimeFor, wallTimeFor } from '../domain/compressed-time.js';
import { graceMs, historyNearlyFull, PROCESSING_GRACE_SECONDS, RETRY } from './budget.js';
import { EVALUATION_TIMEOUTS, LIST_BATCH_SIZES } from '../domain/activity-timeouts.js';
import { superviseChildren } from './children.js';
import { busy, decide, decisions, refusal } from './failures.js';
import { evaluationGradedSignal } from './member.messages.js';
import { publicityWorkflow } from './publicity.js';
import { reviewWorkflow } from './review.js';
import { ProgrammeKey, RoundYearKey, StageKey } from './search-attributes.js';
import { memberWorkflowId, publicityWorkflowId, reviewWorkflowId } from '../domain/workflow-ids.js';
import {
  type EvaluationInput,
  type EvaluationMemory,
  type EvaluationReportRequest,
  type EvaluationStage,
  getEvaluationQuery,
  gradeReportUpdate,
  type StaffGradeRequest,
  submitEvaluationReportUpdate,
} from './evaluation.messages.js';
import { awaitOnTimeReceipts } from './receipts.js';

const BATCH = LIST_BATCH_SIZES.mail;
const acts = proxyActivities<Activities>({
  ...EVALUATION_TIMEOUTS,
  retry: { ...RETRY, nonRetryableErrorTypes: ['EVALUATION_NOT_FOUND'] },
});

/**
 * Procedure 4, the annual dynamic evaluation (年度动态评价): one workflow per programme and year, id
 * `evaluation-<programme>-<year>`. Every active member is asked for a self-evaluation report (due in 20
 * working days, reminders to those without one); a missing report is 不合格; the reports are reviewed by
 * experts (procedure 2, child), graded, and the results publicised (procedure 3, child; objections are
 * appeals). When the results are final each member workflow is told its grade; 不合格 starts elimination there.
 */
export async function evaluationWorkflow(input: EvaluationInput): Promise<EvaluationMemory> {
  const { evaluationId, compression } = input;
  const m: EvaluationMemory = input.resume ?? {
    stage: 'opening',
    titleZh: undefined,
    due: undefined,
    members: 0,
    reminders: [],
    job: undefined,
    cursor: undefined,
    reports: undefined,
    review: undefined,
    grades: undefined,
    publicity: undefined,
    signalled: 0,
    runs: 0,
  };
  m.runs += 1;
  const workflowId = workflowInfo().workflowId;
  const wall = (iso: string) => wallTimeFor(Date.parse(iso), compression);
  const calendarNow = () => new Date(calendarTimeFor(Date.now(), compression));
  // Reports received by the due time may finish recording before the reports are closed.
  const grace = graceMs(PROCESSING_GRACE_SECONDS, compression);
  let draining = false;

  setHandler(getEvaluationQuery, () => m);
  setHandler(
    submitEvaluationReportUpdate,
    (req) => decide(decisions.recordEvaluationReport, { ...req, evaluationId }),
    {
      validator: (req: EvaluationReportRequest) => {
        if (draining) throw busy('流程正在切换运行记录，请稍后重试');
        if (m.stage === 'opening') throw refusal('EVALUATION_NOT_OPEN', '动态评价尚未开始受理自评报告');
        const due = m.due!;
        const received = calendarTimeFor(Date.parse(req.receivedAt), compression);
        const open = m.stage === 'requesting' || m.stage === 'reports_open';
        if (!open || Number.isNaN(received) || received > Date.parse(due.at)) {
          throw refusal(
            'DEADLINE_PASSED',
            `自评报告已于 ${formatInstantZh(new Date(due.at))} 截止${Number.isNaN(received) ? '' : `（本次接收时间 ${formatInstantZh(new Date(received))}）`}，不再受理`,
          );
        }
      },
    },
  );

  setHandler(
    gradeReportUpdate,
    async (req) => {
      const r = await decide(decisions.recordStaffGrade, { ...req, evaluationId });
      if (m.grades) m.grades.ungraded = r.remaining;
      return r;
    },
    {
      validator: (_req: StaffGradeRequest) => {
        if (m.stage !== 'awaiting_grades') {
          throw refusal('GRADING_NOT_OPEN', '只有专家评审后有效评分不足的自评报告由工作人员认定等级');
        }
      },
    },
  );

  // A failed review or publicity child: staff are emailed and the evaluation waits for their retry.
  const children = superviseChildren();
  // What the review and publicity children are of.
  const subject = {
    subjectKind: 'evaluation',
    subjectId: evaluationId,
    programme: input.programme,
    year: input.year,
    compression,
  } as const;

  const setStage = (stage: EvaluationStage) => {
    if (stage !== m.stage) log.info('stage changed', { stage });
    m.stage = stage;
    m.cursor = undefined;
    upsertSearchAttributes({ [StageKey.name]: [`evaluation_${stage}`] });
  };

  if (m.runs === 1 && !input.resume) {
    upsertSearchAttributes({
      [ProgrammeKey.name]: [input.programme],
      [RoundYearKey.name]: [input.year],
      [StageKey.name]: [`evaluation_${m.stage}`],
    });
  }

  for (;;) {
    if (historyNearlyFull()) {
      draining = true;
      await condition(allHandlersFinished);
      return continueAsNew<typeof evaluationWorkflow>({ ...input, resume: m });
    }

    if (m.stage === 'opening') {
      const opened = await acts.openEvaluation({ evaluationId, workflowId, today: shanghaiDayOf(calendarNow()) });
      m.titleZh = opened.titleZh;
      m.due = opened.due;
      m.members = opened.members;
      const now = Date.now();
      m.reminders = opened.due.reminders.filter((r) => wall(r.at) > now);
      // A programme without active members has nothing to ask, review or publicise: it publishes at once.
      setStage(opened.members > 0 ? 'requesting' : 'publishing');
      continue;
    }

    if (m.stage === 'requesting') {
      const batch = await acts.sendEvaluationRequests({ evaluationId, workflowId, after: m.cursor, batchSize: BATCH });
      m.cursor = batch.last;
      if (batch.done) setStage('reports_open');
      continue;
    }

    if (m.stage === 'reports_open') {
      if (m.job) {
        const batch = await acts.sendEvaluationReminders({
          evaluationId,
          workflowId,
          reminder: m.job.reminder,
          after: m.job.after,
          batchSize: BATCH,
        });
        m.job.after = batch.last;
        if (batch.done) m.job = undefined;
        continue;
      }
      const now = Date.now();
      const closesAt = wall(m.due!.at) + grace;
      const reminder = m.reminders[0];
      const next = Math.min(reminder ? wall(reminder.at) : Infinity, closesAt);
      if (now < next) {
        await condition(historyNearlyFull, next - now);
        continue;
      }
      if (reminder && wall(reminder.at) <= now) {
        m.reminders.shift();
        m.job = { reminder };
        continue;
      }
      // Reports received in time finish recording before the reports are closed, those not yet delivered too.
      const dueAt = Date.parse(m.due!.at);
      await awaitOnTimeReceipts(
        { updates: [submitEvaluationReportUpdate.name] },
        (receivedAt) => calendarTimeFor(Date.parse(receivedAt), compression) <= dueAt,
      );
      await condition(allHandlersFinished);
      setStage('closing');
      continue;
    }

    if (m.stage === 'closing') {
      m.reports = await acts.closeEvaluationReports({ evaluationId, workflowId });
      setStage(m.reports.submitted > 0 ? 'review' : 'grading');
      continue;
    }

    if (m.stage === 'review') {
      m.review = await children.run(() =>
        executeChild(reviewWorkflow, {
          workflowId: reviewWorkflowId(evaluationId),
          args: [subject],
        }),
      );
      setStage('grading');
      continue;
    }

    if (m.stage === 'grading') {
      m.grades = await acts.gradeEvaluation({ evaluationId, workflowId });
      if (m.grades.ungraded > 0) {
        // Never 不合格 for the experts' failure: staff grade these reports before the results are publicised.
        await acts.notifyUngraded({ evaluationId, workflowId, ungraded: m.grades.ungraded });
        setStage('awaiting_grades');
      } else {
        setStage('publicity');
      }
      continue;
    }

    if (m.stage === 'awaiting_grades') {
      await condition(() => m.grades!.ungraded === 0 || historyNearlyFull());
      if (m.grades!.ungraded > 0) continue;
      await condition(allHandlersFinished);
      m.grades = await acts.gradeEvaluation({ evaluationId, workflowId });
      setStage('publicity');
      continue;
    }

    if (m.stage === 'publicity') {
      m.publicity = await children.run(() =>
        executeChild(publicityWorkflow, {
          workflowId: publicityWorkflowId(evaluationId),
          args: [subject],
        }),
      );
      setStage('publishing');
      continue;
    }

    if (m.stage === 'publishing') {
      const batch = await acts.publishEvaluationResults({
        evaluationId,
        workflowId,
        at: new Date().toISOString(),
        after: m.cursor,
        batchSize: BATCH,
      });
      m.cursor = batch.last;
      // Each member workflow is told its final grade; 不合格 starts its elimination.
      for (const g of batch.grades) {
        if (!g.grade) continue;
        try {
          await getExternalWorkflowHandle(memberWorkflowId(g.entryId)).signal(evaluationGradedSignal, {
            evaluationId,
            year: input.year,
            grade: g.grade,
          });
          m.signalled += 1;
        } catch (err) {
          // A member revoked meanwhile has no running workflow: nothing to tell.
          log.warn('member workflow not signalled', { entryId: g.entryId, error: String(err) });
        }
      }
      if (batch.done) setStage('done');
      continue;
    }

    if (m.stage === 'done') break;
  }
  await condition(allHandlersFinished);
  return m;
}

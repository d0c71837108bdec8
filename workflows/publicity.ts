import {
  allHandlersFinished,
  condition,
  continueAsNew,
  log,
  patched,
  proxyActivities,
  setHandler,
  upsertSearchAttributes,
  workflowInfo,
} from '@temporalio/workflow';
import type { Activities } from '../activities/index.js';
import { formatInstantZh, shanghaiDayOf } from '../domain/calendar/days.js';
import { calendarTimeFor, wallTimeFor } from '../domain/compressed-time.js';
import { graceMs, historyNearlyFull, PROCESSING_GRACE_SECONDS, RETRY } from './budget.js';
import { PUBLICITY_TIMEOUTS } from '../domain/activity-timeouts.js';
import { busy, decide, decisions, refusal } from './failures.js';
import { ProgrammeKey, RoundYearKey, StageKey } from './search-attributes.js';
import {
  fileObjectionUpdate,
  getPublicityQuery,
  type ObjectionRequest,
  type PublicityMemory,
  type PublicityResult,
  type PublicityStage,
  type PublicityWorkflowInput,
  type ResolutionRequest,
  resolveObjectionUpdate,
} from './publicity.messages.js';
import { awaitOnTimeReceipts } from './receipts.js';

/** Issue 14, point 14: the institutions listed are told when a period opens; older histories never sent it. */
export const PUBLICITY_NOTICES_PATCH = 'publicity-opened-notices';

const acts = proxyActivities<Activities>({
  ...PUBLICITY_TIMEOUTS,
  retry: { ...RETRY, nonRetryableErrorTypes: ['ROUND_NOT_FOUND', 'EVALUATION_NOT_FOUND', 'REVIEW_NOT_FOUND'] },
});

/**
 * Procedure 3, the publicity period (公示): a reusable child workflow, id `publicity-<subject>`. The list is
 * published for N working days; objections reach the workflow as Updates judged by their receipt time
 * against the period's end; staff's resolutions come the same way. An upheld objection takes the entry off
 * and substitutes the next-ranked candidate (递补), whose inclusion is then publicised again for a full
 * period. The period cannot close while an objection is pending: staff are reminded every working day.
 */
export async function publicityWorkflow(input: PublicityWorkflowInput): Promise<PublicityResult> {
  const m: PublicityMemory = input.resume ?? {
    stage: 'opening',
    current: undefined,
    periods: [],
    pending: 0,
    substitutes: [],
    upheld: 0,
    dismissed: 0,
    objections: 0,
    runs: 0,
  };
  m.runs += 1;
  const workflowId = workflowInfo().workflowId;
  const { compression } = input;
  const wall = (iso: string) => wallTimeFor(Date.parse(iso), compression);
  // Objections received by the end may finish recording before the period closes.
  const grace = graceMs(PROCESSING_GRACE_SECONDS, compression);
  const calendarNow = () => new Date(calendarTimeFor(Date.now(), compression));
  let draining = false;
  /** Set while the current period is being closed: an objection is refused from then on (closed means closed). */
  let closing = false;

  setHandler(getPublicityQuery, () => m);

  setHandler(
    fileObjectionUpdate,
    async (req) => {
      const recorded = await decide(decisions.recordObjection, req);
      if (!recorded.repeated) {
        m.pending += 1;
        m.objections += 1;
      }
      return recorded;
    },
    {
      validator: (req: ObjectionRequest) => {
        if (draining) throw busy('流程正在切换运行记录，请稍后重试');
        const current = m.current;
        const received = calendarTimeFor(Date.parse(req.receivedAt), compression);
        if (
          !current ||
          req.publicityId !== current.publicityId ||
          m.stage === 'done' ||
          m.stage === 'opening' ||
          closing
        ) {
          throw refusal('PUBLICITY_CLOSED', '该公示已结束，不再受理异议');
        }
        if (input.subjectKind === 'removal' && req.grounds !== 'procedural') {
          throw refusal(
            'APPEAL_PROCEDURAL_ONLY',
            '对移出名录的公示，仅受理以程序问题为由的申诉（grounds: procedural）',
          );
        }
        if (Number.isNaN(received) || received > Date.parse(current.endsAt)) {
          throw refusal(
            'PUBLICITY_CLOSED',
            `公示期已于 ${formatInstantZh(new Date(current.endsAt))} 结束（本次接收时间 ${formatInstantZh(new Date(received))}），不再受理异议`,
          );
        }
      },
    },
  );

  setHandler(
    resolveObjectionUpdate,
    async (req) => {
      const result = await decide(decisions.recordResolution, { ...req, workflowId });
      m.pending = Math.max(0, m.pending - 1);
      if (result.outcome === 'upheld') m.upheld += 1;
      else m.dismissed += 1;
      if (result.substituteApplicationId) m.substitutes.push(result.substituteApplicationId);
      if (result.changedItemId) m.substitutes.push(result.changedItemId);
      return result;
    },
    {
      validator: (_req: ResolutionRequest) => {
        if (draining) throw busy('流程正在切换运行记录，请稍后重试');
      },
    },
  );

  const setStage = (stage: PublicityStage) => {
    if (stage !== m.stage) log.info('stage changed', { stage });
    m.stage = stage;
    upsertSearchAttributes({ [StageKey.name]: [`publicity_${stage}`] });
  };

  const shouldContinueAsNew = historyNearlyFull;

  if (m.runs === 1) {
    upsertSearchAttributes({
      [ProgrammeKey.name]: [input.programme],
      [RoundYearKey.name]: [input.year],
      [StageKey.name]: [`publicity_${m.stage}`],
    });
  }

  for (;;) {
    if (shouldContinueAsNew()) {
      draining = true;
      await condition(allHandlersFinished);
      return continueAsNew<typeof publicityWorkflow>({ ...input, resume: m });
    }

    if (m.stage === 'opening') {
      const parent = m.current;
      const substitutes = m.substitutes;
      m.current = await acts.openPublicity({
        workflowId,
        subjectKind: input.subjectKind,
        subjectId: input.subjectId,
        parentId: parent?.publicityId,
        itemIds: parent ? substitutes : undefined,
        today: shanghaiDayOf(calendarNow()),
      });
      m.substitutes = [];
      m.periods.push(m.current);
      setStage('open');
      // The notices to those listed were recorded with the period; sent once objections can be taken.
      if (patched(PUBLICITY_NOTICES_PATCH)) {
        await acts.sendPublicityNotices({ workflowId, publicityId: m.current.publicityId });
      }
      continue;
    }

    if (m.stage === 'open') {
      const closesAt = wall(m.current!.endsAt) + grace;
      if (Date.now() < closesAt) {
        await condition(shouldContinueAsNew, closesAt - Date.now());
        continue;
      }
      // Objections received in time finish recording before the period is judged, those not yet delivered too.
      const { publicityId, endsAt } = m.current!;
      await awaitOnTimeReceipts(
        { updates: [fileObjectionUpdate.name], argContains: { publicityId } },
        (receivedAt) => calendarTimeFor(Date.parse(receivedAt), compression) <= Date.parse(endsAt),
      );
      await condition(allHandlersFinished);
      setStage(m.pending > 0 ? 'awaiting_resolution' : 'open');
      if (m.stage === 'open') await close();
      continue;
    }

    if (m.stage === 'awaiting_resolution') {
      if (m.pending === 0) {
        await close();
        continue;
      }
      const morning = await acts.nextWorkingMorning({ after: calendarNow().toISOString() });
      const resolved = await condition(
        () => m.pending === 0 || shouldContinueAsNew(),
        Math.max(0, wall(morning) - Date.now()),
      );
      if (!resolved) {
        await acts.remindStaffOfObjections({
          workflowId,
          publicityId: m.current!.publicityId,
          day: shanghaiDayOf(new Date(morning)),
        });
      }
      continue;
    }

    if (m.stage === 'done') break;
  }
  await condition(allHandlersFinished);
  return { periods: m.periods.length, objections: m.objections, upheld: m.upheld, dismissed: m.dismissed };

  /**
   * Closes the current period; the changes it brought (递补) are publicised next, for a full period. From its
   * start no objection is accepted; one accepted just before finishes recording first and is then awaited
   * like any other pending objection (before, it could be recorded after the close and never judged).
   */
  async function close(): Promise<void> {
    closing = true;
    if (patched('publicity-close-after-objections')) {
      await condition(allHandlersFinished);
      if (m.pending > 0) {
        closing = false;
        setStage('awaiting_resolution');
        return;
      }
    }
    await acts.closePublicity({ workflowId, publicityId: m.current!.publicityId, at: new Date().toISOString() });
    closing = false;
    setStage(m.substitutes.length > 0 ? 'opening' : 'done');
  }
}

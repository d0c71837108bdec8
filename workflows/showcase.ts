import {
  allHandlersFinished,
  condition,
  executeChild,
  log,
  proxyActivities,
  setHandler,
  sleep,
  upsertSearchAttributes,
  workflowInfo,
} from '@temporalio/workflow';
import type { Activities } from '../activities/index.js';
import { formatInstantZh, shanghaiDayOf } from '../domain/calendar/days.js';
import { calendarTimeFor, wallTimeFor } from '../domain/compressed-time.js';
import { graceMs, PROCESSING_GRACE_SECONDS, RETRY } from './budget.js';
import { superviseChildren } from './children.js';
import { busy, decide, decisions, refusal } from './failures.js';
import { publicityWorkflow } from './publicity.js';
import { reviewWorkflow } from './review.js';
import { ProgrammeKey, RoundYearKey, StageKey } from './search-attributes.js';
import { publicityWorkflowId, reviewWorkflowId } from '../domain/workflow-ids.js';
import {
  getShowcaseQuery,
  nominateCaseUpdate,
  type NominationRequest,
  type ShowcaseInput,
  type ShowcaseMemory,
  type ShowcaseStage,
} from './showcase.messages.js';
import { awaitOnTimeReceipts } from './receipts.js';

const acts = proxyActivities<Activities>({ startToCloseTimeout: '5 minutes', retry: RETRY });

/**
 * Procedure 6, the outcome showcase (典型案例), one workflow per year, id `showcase-<year>`: a call for case
 * nominations from directory members and research projects (at most NOMINATIONS_PER_INSTITUTION per institution; reminders 7/3/1
 * working days before the due day to institutions that have nominated nothing), the expert review
 * (procedure 2) and the publicity period (procedure 3) as children, then the selected cases are published.
 */
export async function showcaseWorkflow(input: ShowcaseInput): Promise<ShowcaseMemory> {
  const { showcaseId, compression } = input;
  const workflowId = workflowInfo().workflowId;
  const wall = (iso: string) => wallTimeFor(Date.parse(iso), compression);
  const calendarNow = () => new Date(calendarTimeFor(Date.now(), compression));
  const grace = graceMs(PROCESSING_GRACE_SECONDS, compression);
  const m: ShowcaseMemory = {
    stage: 'opening',
    dueAt: undefined,
    invited: 0,
    remindersSent: 0,
    nominated: 0,
    selected: 0,
  };
  const setStage = (stage: ShowcaseStage) => {
    if (stage !== m.stage) log.info('stage changed', { stage });
    m.stage = stage;
    upsertSearchAttributes({ [StageKey.name]: [`showcase_${stage}`] });
  };

  /** Set once the nominations are being counted: a nomination is refused from then on (closed means closed). */
  let nominationsClosing = false;

  setHandler(getShowcaseQuery, () => m);
  // A failed review or publicity child: staff are emailed and the showcase waits for their retry.
  const children = superviseChildren();
  setHandler(
    nominateCaseUpdate,
    async (req) => {
      const r = await decide(decisions.recordNomination, { ...req, showcaseId });
      m.nominated += 1;
      return r;
    },
    {
      validator: (req: NominationRequest) => {
        // The call is being opened (the deadline is computed): the API retries a busy workflow.
        if (m.stage === 'opening') throw busy('案例征集正在开启，请稍后重试');
        const received = calendarTimeFor(Date.parse(req.receivedAt), compression);
        if (m.stage !== 'nominations_open' || nominationsClosing || !(received <= Date.parse(m.dueAt!))) {
          throw refusal('NOMINATIONS_CLOSED', `案例推荐已于 ${formatInstantZh(new Date(m.dueAt!))} 截止`);
        }
      },
    },
  );

  upsertSearchAttributes({
    [ProgrammeKey.name]: ['typical_case'],
    [RoundYearKey.name]: [input.year],
    [StageKey.name]: ['showcase_opening'],
  });
  const opened = await acts.openShowcase({ showcaseId, workflowId, today: shanghaiDayOf(calendarNow()) });
  m.dueAt = opened.dueAt;
  m.invited = opened.invited;
  setStage('nominations_open');

  // Reminders go out at their times (to institutions that have nominated nothing) until the call closes.
  const closesAt = wall(m.dueAt) + grace;
  const reminders = opened.reminders.filter((r) => wall(r.at) > Date.now());
  while (Date.now() < closesAt) {
    const reminder = reminders[0];
    if (reminder && wall(reminder.at) <= Date.now()) {
      reminders.shift();
      m.remindersSent += await acts.sendShowcaseReminder({ showcaseId, workflowId, reminder });
      continue;
    }
    const next = Math.min(reminder ? wall(reminder.at) : Infinity, closesAt);
    await sleep(next - Date.now());
  }
  // Nominations received in time but not yet delivered are waited for, then finish recording.
  await awaitOnTimeReceipts(
    { updates: [nominateCaseUpdate.name] },
    (receivedAt) => calendarTimeFor(Date.parse(receivedAt), compression) <= Date.parse(m.dueAt!),
  );
  await condition(allHandlersFinished);
  // From here the nominations are closed, whatever a receipt time says: nothing is recorded after the count.
  nominationsClosing = true;
  m.nominated = (await acts.closeNominations({ showcaseId })).nominated;

  if (m.nominated > 0) {
    // What the review and publicity children are of.
    const subject = {
      subjectKind: 'showcase',
      subjectId: showcaseId,
      programme: 'typical_case',
      year: input.year,
      compression,
    } as const;
    setStage('review');
    await children.run(() =>
      executeChild(reviewWorkflow, {
        workflowId: reviewWorkflowId(showcaseId),
        args: [subject],
      }),
    );
    setStage('publicity');
    await children.run(() =>
      executeChild(publicityWorkflow, {
        workflowId: publicityWorkflowId(showcaseId),
        args: [subject],
      }),
    );
  }
  setStage('publishing');
  m.selected = (await acts.publishShowcase({ showcaseId, workflowId, at: new Date().toISOString() })).selected;
  setStage('published');
  await condition(allHandlersFinished);
  return m;
}

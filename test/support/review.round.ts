import type { WorkflowHandle } from '@temporalio/client';
import type { Db } from '../../db/knex.js';
import { CalendarRepository } from '../../db/repositories/calendar.js';
import { insertRound } from '../../db/repositories/round.js';
import type { ReviewState, ReviewWorkflow } from '../../workflows/review.messages.js';
import type { TimeSkippingStack } from './time-skipping.js';
import { eventually } from './wait.js';

/** Staff enter 2027's 国庆 arrangement: 10-01..10-07 off, Sun 09-26 and Sat 10-09 worked (调休). */
export async function enterNationalDay2027(db: Db): Promise<void> {
  await new CalendarRepository(db).enterOfficialArrangement({
    year: 2027,
    holidays: ['01', '02', '03', '04', '05', '06', '07'].map((d) => ({ date: `2027-10-${d}`, name: '国庆节' })),
    workdays: [
      { date: '2027-09-26', name: '国庆节' },
      { date: '2027-10-09', name: '国庆节' },
    ],
    enteredBy: 'staff:test',
  });
}

/**
 * What a review test starts from: the research-project round `roundId` of `year`, two of its applications that
 * passed the formal check (zzu and henu, titled 研究项目 <titleTag>1 and 2), and a pool of only `experts`, all of
 * the applications' field. Returns the applications' ids, in that order.
 */
export async function seedRoundForReview(
  db: Db,
  {
    roundId,
    year = 2027,
    titleTag,
    experts,
  }: { roundId: string; year?: number; titleTag: string; experts: { id: string; nameZh: string }[] },
): Promise<{ id: string }[]> {
  await insertRound(db, {
    id: roundId,
    programme: 'research_project',
    year,
    titleZh: `${year}年度产教融合研究项目申报`,
    opensAt: new Date(`${year}-08-01T01:00:00Z`),
    launchedBy: 'staff:test',
  });
  const applications = await db('applications')
    .insert(
      ['zzu', 'henu'].map((institution, i) => ({
        round_id: roundId,
        institution_id: institution,
        status: 'formal_passed',
        title_zh: `研究项目 ${titleTag}${i + 1}`,
        field_key: 'next_gen_it',
        draft: JSON.stringify({ title: `研究项目 ${titleTag}${i + 1}` }),
        received_at: new Date(`${year}-08-1${i}T02:00:00Z`),
      })),
    )
    .returning<{ id: string }[]>('id');
  await db('experts').update({ active: false });
  await db('experts').insert(
    experts.map(({ id, nameZh }) => ({
      id,
      name_zh: nameZh,
      email: `${id}@pool.ronghe.example`,
      affiliation_kind: 'industry',
      enterprise_id: 'newcapec',
      title_zh: '正高级工程师',
      fields: ['next_gen_it'],
    })),
  );
  return applications;
}

/**
 * Starts the review of the 2027 research-project round `roundId` (workflow `workflowId` on `taskQueue`) at
 * 2027-09-24 10:00 Beijing time, the stack's clock skipped there, and waits until its experts are invited
 * (stage `reviewing`). Returns the workflow's handle and its state then.
 */
export async function startRoundReview(
  stack: TimeSkippingStack,
  { roundId, workflowId, taskQueue }: { roundId: string; workflowId: string; taskQueue: string },
): Promise<{ handle: WorkflowHandle<ReviewWorkflow>; state: ReviewState }> {
  await stack.skipTo('2027-09-24T10:00:00+08:00');
  const handle = await stack.env.client.workflow.start<ReviewWorkflow>('reviewWorkflow', {
    workflowId,
    taskQueue,
    args: [{ subjectKind: 'round', subjectId: roundId, programme: 'research_project', year: 2027 }],
  });
  const state = await eventually(async () => {
    const s = await handle.query<ReviewState>('getReview');
    return s.stage === 'reviewing' ? s : undefined;
  });
  return { handle, state };
}

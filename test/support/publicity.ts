import { insertRound } from '../../db/repositories/round.js';
import type { PublicityWorkflow } from '../../workflows/publicity.messages.js';
import { TEST_TASK_QUEUE, type TestStack } from './stack.js';
import { eventually } from './wait.js';

/**
 * A demo_college round of `year` (`round-demo_college-<year>`, `<year>年度产教融合示范学院申报`) with two
 * shortlisted applications (zzu-cs, hpu-energy), and its publicity period started in real time: five working days
 * from today.
 *
 * @returns the publicity period's id
 */
export async function openDemoCollegePublicity(stack: TestStack, year: number): Promise<string> {
  const round = `round-demo_college-${year}`;
  await insertRound(stack.database.db, {
    id: round,
    programme: 'demo_college',
    year,
    titleZh: `${year}年度产教融合示范学院申报`,
    opensAt: new Date('2026-11-01T01:00:00Z'),
    launchedBy: 'staff:test',
  });
  await stack.database.db('applications').insert(
    [
      ['zzu-cs', '计算机与人工智能学院示范学院建设'],
      ['hpu-energy', '能源科学与工程学院示范学院建设'],
    ].map(([institution, title]) => ({
      round_id: round,
      institution_id: institution,
      status: 'shortlisted',
      title_zh: title,
      field_key: 'next_gen_it',
      draft: '{}',
    })),
  );
  await stack.client.workflow.start<PublicityWorkflow>('publicityWorkflow', {
    workflowId: `publicity-${round}`,
    taskQueue: TEST_TASK_QUEUE,
    args: [{ subjectKind: 'round', subjectId: round, programme: 'demo_college', year }],
  });
  return eventually(async () => {
    const r = await stack.request<{ items: { publicityId: string }[] }>('GET', `/api/rounds/${round}/publicity`);
    return r.body.items[0]?.publicityId;
  });
}

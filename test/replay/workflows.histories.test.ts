import fs from 'node:fs';
import path from 'node:path';
import { temporal } from '@temporalio/proto';
import { Worker } from '@temporalio/worker';
import { describe, expect, inject, it } from 'vitest';
import { installRuntime } from '../../worker.js';
import * as workflows from '../../workflows/index.js';
import { testLogger } from '../support/stack.js';

/**
 * Workflows run for years across deployments, so today's code must replay what earlier versions recorded.
 * The fixtures (`<workflow>.<commit>.json`, the workflow type first) are histories recorded by earlier
 * versions; `<commit>` is the last commit of the code that recorded them:
 * - commit 6d59210, before directory members: a round of teacher_station from launch to 认定
 *   (scripts/walkthrough.sh) and its review and publicity children. The round's approval now starts member
 *   workflows; `patched('directory-members')` keeps the old path for histories recorded before it. Remove
 *   that patch and the round's replay fails.
 * - commit b475b2a, members before evaluation and elimination: a member's first year, a later year (a run
 *   continued as new, whose memory has no grades yet) and a revocation.
 * - commit 0d61eba, recorded by the e2e stories (`RONGHE_RECORD_HISTORIES`, test/support/record-histories.ts)
 *   before issue 13 changed what running workflows do:
 *   - `showcase-2027`: a showcase year, nominations to publication, with its review and publicity
 *     children (showcase.test.ts);
 *   - `event-roadshow`: an event moved twice, reminded, its attendance recorded; `event-exhibition-cancelled`:
 *     an event cancelled (event.test.ts);
 *   - `evaluation-demo_college-2027`: an evaluation of ten members, reports, review, a staff grade,
 *     publication (evaluation.test.ts);
 *   - `project-research_project-completed`: a research project over three years, midterm passed, extended,
 *     final failed then passed; `project-research_project-terminated-in-review`: a project terminated while
 *     its late midterm report was under review (project.test.ts);
 *   - `launcher-evaluation-practice_base`: a launcher a Schedule started that started an evaluation;
 *     `launcher-round-brand_project-refused`: one refused because the round existed (schedule.test.ts);
 *   - `member-removed`: a member graded 不合格 that never reported its rectification, its removal publicised
 *     and carried out; `member-rectified`: a member that rectified and passed the experts' re-evaluation, its
 *     first-year run still running when recorded (member.elimination.test.ts).
 * - commit 878e9e6, recorded by outbox.claims.test.ts: `outbox-sweeper`, the outbox sweeper's run — sweeps on
 *   one worker, then two worker processes' settings (signal-with-start) and their parallel sweeps.
 * To record again: `RONGHE_RECORD_HISTORIES=test/replay/histories npx vitest run test/e2e/<file>.test.ts`.
 */
const dir = path.join(import.meta.dirname, 'histories');
const fixtures = fs.readdirSync(dir).filter((f) => f.endsWith('.json'));

function load(file: string): temporal.api.history.v1.History {
  const raw = JSON.parse(fs.readFileSync(path.join(dir, file), 'utf8')) as Record<string, unknown>;
  return temporal.api.history.v1.History.fromObject(raw);
}

describe('histories recorded by the deployed version replay on this code', () => {
  installRuntime(testLogger());

  it('has the fixtures listed above; the round reaches 认定', () => {
    expect(fixtures.sort()).toEqual([
      'evaluation-demo_college-2027.0d61eba.json',
      'event-exhibition-cancelled.0d61eba.json',
      'event-roadshow.0d61eba.json',
      'launcher-evaluation-practice_base.0d61eba.json',
      'launcher-round-brand_project-refused.0d61eba.json',
      'member-first-year.b475b2a.json',
      'member-later-year.b475b2a.json',
      'member-rectified.0d61eba.json',
      'member-removed.0d61eba.json',
      'member-revoked.b475b2a.json',
      'outbox-sweeper.878e9e6.json',
      'project-research_project-completed.0d61eba.json',
      'project-research_project-terminated-in-review.0d61eba.json',
      'publicity-round-teacher_station-2027.6d59210.json',
      'review-round-teacher_station-2027.6d59210.json',
      'round-teacher_station-2027.6d59210.json',
      'showcase-2027.0d61eba.json',
    ]);
    const round = load('round-teacher_station-2027.6d59210.json');
    // The fixture reaches approval: the round completed after its approval activity.
    expect(round.events.at(-1)?.eventType).toBe(
      temporal.api.enums.v1.EventType.EVENT_TYPE_WORKFLOW_EXECUTION_COMPLETED,
    );
    expect(
      round.events.some((e) => e.activityTaskScheduledEventAttributes?.activityType?.name === 'approveRound'),
    ).toBe(true);
  });

  it('covers every workflow type the worker registers', () => {
    const recorded = new Set(
      fixtures.map((f) => load(f).events[0]?.workflowExecutionStartedEventAttributes?.workflowType?.name),
    );
    expect([...recorded].sort()).toEqual(Object.keys(workflows).sort());
  });

  it.each(fixtures)('replays %s without nondeterminism', async (file) => {
    await Worker.runReplayHistory(
      {
        workflowBundle: { code: fs.readFileSync(inject('workflowBundlePath'), 'utf8') },
        replayName: file,
      },
      load(file),
      file.replace(/\.[0-9a-f]{7}\.json$/, ''),
    );
  });
});

import fs from 'node:fs';
import path from 'node:path';
import { temporal } from '@temporalio/proto';
import { Worker } from '@temporalio/worker';
import { describe, expect, inject, it } from 'vitest';
import { installRuntime } from '../../worker.js';
import { testLogger } from '../support/stack.js';

/**
 * Workflows run for years across deployments, so today's code must replay what earlier versions recorded.
 * The fixtures (`<workflow>.<commit>.json`) are histories recorded by earlier versions:
 * - commit 6d59210, before directory members: a round of teacher_station from launch to 认定
 *   (scripts/walkthrough.sh) and its review and publicity children. The round's approval now starts member
 *   workflows; `patched('directory-members')` keeps the old path for histories recorded before it. Remove
 *   that patch and the round's replay fails.
 * - commit b475b2a, members before evaluation and elimination: a member's first year, a later year (a run
 *   continued as new, whose memory has no grades yet) and a revocation.
 */
const dir = path.join(import.meta.dirname, 'histories');
const fixtures = fs.readdirSync(dir).filter((f) => f.endsWith('.json'));

function load(file: string): temporal.api.history.v1.History {
  const raw = JSON.parse(fs.readFileSync(path.join(dir, file), 'utf8')) as Record<string, unknown>;
  return temporal.api.history.v1.History.fromObject(raw);
}

describe('histories recorded by the deployed version replay on this code', () => {
  installRuntime(testLogger());

  it('has the round, review and publicity histories of one round to 认定', () => {
    expect(fixtures.sort()).toEqual([
      'member-first-year.b475b2a.json',
      'member-later-year.b475b2a.json',
      'member-revoked.b475b2a.json',
      'publicity-round-teacher_station-2027.6d59210.json',
      'review-round-teacher_station-2027.6d59210.json',
      'round-teacher_station-2027.6d59210.json',
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

import { executeChild, ParentClosePolicy, patched, startChild } from '@temporalio/workflow';
import { WorkflowExecutionAlreadyStartedError } from '@temporalio/common';
import type { Activities } from '../activities/index.js';
import { shanghaiDayOf } from '../domain/calendar/days.js';
import { calendarTimeFor } from '../domain/compressed-time.js';
import { memberWorkflowId, projectWorkflowId, publicityWorkflowId } from '../domain/workflow-ids.js';
import type { ChildSupervisor } from './children.js';
import { memberWorkflow } from './member.js';
import { projectWorkflow } from './project.js';
import { publicityWorkflow } from './publicity.js';
import type { RoundInput, RoundMemory } from './round.messages.js';

/** Rounds approved from this version on start a member workflow per directory entry (issue 7). */
export const DIRECTORY_MEMBERS_PATCH = 'directory-members';
/** Rounds of research_project approved from this version on start a project workflow per project (issue 8). */
export const RESEARCH_PROJECTS_PATCH = 'research-projects';

/** The activities the round's end calls (the round's proxy, with its timeouts and retry policy). */
export type ApprovalActivities = Pick<Activities, 'approveRound' | 'createProjects'>;

/**
 * The round's end, from its `publicity` stage: the publicity period (procedure 3) as a child workflow, whose
 * end (every objection resolved, every 递补 publicised) is 认定; then the approval recorded, and the workflows
 * that outlive the round started as abandoned children — a member workflow per directory entry, and for
 * research_project a project workflow per project. Records the publicity's result and the number approved
 * in `m` as each arrives (the `getRound` query shows them). A child already started (a retried run) is
 * skipped. The order of these commands is part of the round's history: replay depends on it. A failed publicity
 * waits for staff's retry through `children` (the round's supervisor).
 */
export async function publiciseAndApprove(
  input: RoundInput,
  m: RoundMemory,
  acts: ApprovalActivities,
  children: ChildSupervisor,
): Promise<void> {
  const { roundId, compression } = input;
  m.publicity = await children.run(() =>
    executeChild(publicityWorkflow, {
      workflowId: publicityWorkflowId(roundId),
      args: [{ subjectKind: 'round', subjectId: roundId, programme: input.programme, year: input.year, compression }],
    }),
  );
  const approved = await acts.approveRound({
    roundId,
    workflowId: roundId,
    today: shanghaiDayOf(new Date(calendarTimeFor(Date.now(), compression))),
    at: new Date().toISOString(),
  });
  m.approved = approved.approved;
  // Each directory entry lives on as its own member workflow, outliving the round. Rounds approved by
  // the version before directory members (histories without these child starts) replay without them.
  const admittedOn = shanghaiDayOf(new Date(calendarTimeFor(Date.now(), compression)));
  const entries = patched(DIRECTORY_MEMBERS_PATCH) ? approved.entries : [];
  for (const entry of entries) {
    try {
      await startChild(memberWorkflow, {
        workflowId: memberWorkflowId(entry.entryId),
        args: [
          {
            entryId: entry.entryId,
            programme: input.programme,
            institutionId: entry.institutionId,
            admittedOn,
            compression,
          },
        ],
        parentClosePolicy: ParentClosePolicy.ABANDON,
      });
    } catch (err) {
      if (!(err instanceof WorkflowExecutionAlreadyStartedError)) throw err;
    }
  }
  // A research project lives on as its own workflow from 立项 (rounds approved before this version did not
  // start them: their histories replay without).
  if (input.programme === 'research_project' && patched(RESEARCH_PROJECTS_PATCH)) {
    const projects = await acts.createProjects({ roundId, today: admittedOn });
    for (const p of projects) {
      try {
        await startChild(projectWorkflow, {
          workflowId: projectWorkflowId(p.projectId),
          args: [{ projectId: p.projectId, programme: input.programme, institutionId: p.institutionId, compression }],
          parentClosePolicy: ParentClosePolicy.ABANDON,
        });
      } catch (err) {
        if (!(err instanceof WorkflowExecutionAlreadyStartedError)) throw err;
      }
    }
  }
}

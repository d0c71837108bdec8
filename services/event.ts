import { WorkflowIdConflictPolicy, WorkflowIdReusePolicy, type Client } from '@temporalio/client';
import type { Db } from '../db/knex.js';
import { recordAudit } from '../db/repositories/audit.js';
import { insertEvent, type NewEvent } from '../db/repositories/event.creation.js';
import { formatShanghai } from '../domain/calendar/index.js';
import { eventWorkflowId } from '../domain/workflow-ids.js';
import type { EventInput, EventWorkflow } from '../workflows/event.messages.js';
import { StageKey } from '../workflows/search-attributes.js';

/**
 * Schedules a roadshow or exhibition: its row and invitations, the `event.schedule` audit row and the start
 * of `eventWorkflow` (`event-<eventId>`), in one transaction — if Temporal refuses the start, nothing is kept.
 * Returns the new event id. The caller has checked the time and the presenters.
 */
export async function createEvent(
  db: Db,
  temporal: Client,
  taskQueue: string,
  event: Omit<NewEvent, 'createdBy'>,
  by: { actor: string; requestId: string | undefined },
): Promise<string> {
  return db.transaction(async (trx) => {
    const id = await insertEvent(trx, { ...event, createdBy: by.actor });
    await recordAudit(trx, {
      actor: by.actor,
      role: 'staff',
      action: 'event.schedule',
      subjectKind: 'event',
      subjectId: id,
      details: {
        kind: event.kind,
        startsAt: formatShanghai(event.startsAt),
        place: event.placeZh,
        presenters: event.presenters,
      },
      requestId: by.requestId,
      workflowId: eventWorkflowId(id),
    });
    const input: EventInput = {
      eventId: id,
      startsAt: event.startsAt.toISOString(),
      ...(event.compression ? { compression: event.compression } : {}),
    };
    await temporal.workflow.start<EventWorkflow>('eventWorkflow', {
      workflowId: eventWorkflowId(id),
      taskQueue,
      args: [input],
      workflowIdReusePolicy: WorkflowIdReusePolicy.REJECT_DUPLICATE,
      workflowIdConflictPolicy: WorkflowIdConflictPolicy.FAIL,
      memo: { title: event.titleZh },
      typedSearchAttributes: [{ key: StageKey, value: 'event_inviting' }],
    });
    return id;
  });
}

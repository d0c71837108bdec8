import type { Db } from '../knex.js';
import type { TimeCompression } from '../../domain/compressed-time.js';
import { eventWorkflowId } from '../../domain/workflow-ids.js';
import type { EventKind } from './event.js';

export interface NewEvent {
  kind: EventKind;
  titleZh: string;
  startsAt: Date;
  placeZh: string;
  showcaseId: string | undefined;
  /** Institution ids, each invited once. */
  presenters: readonly string[];
  createdBy: string;
  compression: TimeCompression | undefined;
}

/**
 * Inserts a scheduled event with an invitation per presenter and its workflow id (`event-<eventId>`); returns
 * the new event id. Meant for a transaction that also starts the workflow.
 */
export async function insertEvent(trx: Db, event: NewEvent): Promise<string> {
  const [row] = await trx('showcase_events')
    .insert({
      showcase_id: event.showcaseId ?? null,
      kind: event.kind,
      title_zh: event.titleZh,
      starts_at: event.startsAt,
      place_zh: event.placeZh,
      status: 'scheduled',
      created_by: event.createdBy,
      compressed_time: event.compression ? JSON.stringify(event.compression) : null,
    })
    .returning<{ id: string }[]>('id');
  const id = row!.id;
  await trx('event_invitations').insert(
    event.presenters.map((p) => ({ event_id: id, institution_id: p, status: 'invited' })),
  );
  await trx('showcase_events')
    .where({ id })
    .update({ workflow_id: eventWorkflowId(id) });
  return id;
}

import type { Db } from '../knex.js';

export interface InvitationRow {
  institutionId: string;
  institutionName: string;
  status: 'invited' | 'confirmed' | 'declined';
  respondedAt: Date | null;
  declineReason: string | null;
  attended: boolean | null;
}

/** An event's invitations by institution id; only `institutionId`'s when given. */
export async function invitationsOf(db: Db, eventId: string, institutionId?: string): Promise<InvitationRow[]> {
  const rows = await db('event_invitations as v')
    .join('institutions as i', 'i.id', 'v.institution_id')
    .where('v.event_id', eventId)
    .modify((q) => {
      if (institutionId) q.where('v.institution_id', institutionId);
    })
    .orderBy('v.institution_id')
    .select<
      {
        institution_id: string;
        name_zh: string;
        status: InvitationRow['status'];
        responded_at: Date | null;
        decline_reason: string | null;
        attended: boolean | null;
      }[]
    >('v.institution_id', 'i.name_zh', 'v.status', 'v.responded_at', 'v.decline_reason', 'v.attended');
  return rows.map((i) => ({
    institutionId: i.institution_id,
    institutionName: i.name_zh,
    status: i.status,
    respondedAt: i.responded_at,
    declineReason: i.decline_reason,
    attended: i.attended,
  }));
}

/** Whether the institution is on the event's invitation list (whatever its answer). */
export async function isInvited(db: Db, eventId: string, institutionId: string): Promise<boolean> {
  const row = await db('event_invitations')
    .where({ event_id: eventId, institution_id: institutionId })
    .first<{ status: string } | undefined>('status');
  return row !== undefined;
}

import type { Db } from '../db/knex.js';
import { noticeAddressees, notShortlistedApplications, submissionReceiptFacts } from '../db/repositories/notices.js';
import type { PublishedRow } from '../db/repositories/publicity.subjects.js';
import { formatDayZh } from '../domain/calendar/index.js';
import type { OutgoingEmail } from '../mail/outbox.js';
import { notShortlistedNotice, publicityOpened, submissionReceipt } from '../mail/templates.js';

/**
 * The notices that tell each person a decision concerns (issue 14, point 14): the receipt of an accepted
 * submission, the opening of a publicity period to the institutions it lists, and the final result to
 * applicants not on the list. Each is built inside the decision's transaction and enqueued with it; its
 * idempotency key names the occasion, so a retried decision records it once.
 */

/** `<round>/submission_receipt/<application>/<version>`: one receipt per accepted version. */
export const submissionReceiptKey = (roundId: string, applicationId: string, version: number) =>
  `${roundId}/submission_receipt/${applicationId}/${version}`;

/**
 * The receipt (受理回执) of version `version` of an application, to its institution's contact, with what the
 * formal check would find today (`warnings`).
 *
 * @throws Error when the application is unknown (the caller accepted it in the same transaction: a bug).
 */
export async function submissionReceiptEmail(
  trx: Db,
  s: { roundId: string; applicationId: string; version: number; receivedAt: string; warnings: string[] },
): Promise<OutgoingEmail> {
  const facts = await submissionReceiptFacts(trx, s.applicationId);
  if (!facts) throw new Error(`application ${s.applicationId} not found for its receipt`);
  return {
    idempotencyKey: submissionReceiptKey(s.roundId, s.applicationId, s.version),
    workflowId: s.roundId,
    purpose: 'submission_receipt',
    recipient: facts.contact_email,
    ...submissionReceipt({
      institutionName: facts.name_zh,
      roundTitle: facts.round_title_zh,
      applicationTitle: facts.title_zh,
      version: s.version,
      receivedAt: new Date(s.receivedAt),
      deadline: facts.deadline_at,
      deadlineEstimated: facts.deadline_estimated ?? false,
      warnings: s.warnings,
    }),
  };
}

/** `<workflow>/publicity_opened/<period>/<item>`: one notice per listed entry of a period. */
export const publicityOpenedKey = (workflowId: string, publicityId: string, itemId: string) =>
  `${workflowId}/publicity_opened/${publicityId}/${itemId}`;

/**
 * One notice per entry a new publicity period lists, to the entry's institution: what is published, from
 * `period.firstDay` to 24:00 of its last day (预计 when `period.estimated`).
 */
export async function publicityOpenedEmails(
  trx: Db,
  workflowId: string,
  period: { publicityId: string; titleZh: string; firstDay: string; endsAt: Date; estimated: boolean },
  rows: PublishedRow[],
): Promise<OutgoingEmail[]> {
  const addressees = await noticeAddressees(
    trx,
    rows.map((r) => r.institution_id),
  );
  return rows.flatMap((r) => {
    const to = addressees.get(r.institution_id);
    if (!to) return [];
    return [
      {
        idempotencyKey: publicityOpenedKey(workflowId, period.publicityId, r.item_id),
        workflowId,
        purpose: 'publicity_opened',
        recipient: to.contact_email,
        ...publicityOpened({
          institutionName: to.name_zh,
          publicityTitle: period.titleZh,
          entryTitle: r.title_zh,
          resultZh: r.result_zh,
          firstDay: formatDayZh(period.firstDay),
          endsAt: period.endsAt,
          estimated: period.estimated,
        }),
      },
    ];
  });
}

/** `<workflow>/not_shortlisted_notice/<application>`. */
export const notShortlistedKey = (workflowId: string, applicationId: string) =>
  `${workflowId}/not_shortlisted_notice/${applicationId}`;

/** The result to every applicant of the round whose reviewed application is not on the final list. */
export async function notShortlistedEmails(
  trx: Db,
  r: { roundId: string; workflowId: string; roundTitle: string; programmeName: string },
): Promise<OutgoingEmail[]> {
  const apps = await notShortlistedApplications(trx, r.roundId);
  return apps.map((a) => ({
    idempotencyKey: notShortlistedKey(r.workflowId, a.application_id),
    workflowId: r.workflowId,
    purpose: 'not_shortlisted_notice',
    recipient: a.contact_email,
    ...notShortlistedNotice({
      institutionName: a.name_zh,
      roundTitle: r.roundTitle,
      programmeName: r.programmeName,
      applicationTitle: a.title_zh,
    }),
  }));
}

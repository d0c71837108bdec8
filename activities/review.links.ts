import type { Db } from '../db/knex.js';
import { insertAssignmentLink } from '../db/repositories/assignment-links.js';
import { assignmentLinkExpiry } from '../domain/review/links.js';
import type { Outbox, OutgoingEmail } from '../mail/outbox.js';
import type { ExpertLink, RenderedEmail } from '../mail/templates.js';
import { newToken } from '../services/tokens.js';
import { signInUrlOf } from './deps.js';

/** The path an assignment link opens (the API's page `GET /review/assignment/:token`). */
export const ASSIGNMENT_LINK_PATH = '/review/assignment/';

/**
 * Records a review email to an expert together with the link it carries, in the caller's transaction `trx`:
 * a new random token (only its SHA-256 is stored, in `assignment_links`, keyed by the email's idempotency key)
 * reaching `assignments`, expiring at their latest due time plus the grace; then the email rendered with that
 * link into the outbox. Idempotent: when the email's link exists already (a retried activity), nothing is
 * recorded — the email in the outbox, committed with that link, carries its token — so one email, one link.
 * Generating the token is I/O of the activity, never of the workflow.
 */
export async function enqueueWithAssignmentLink(
  deps: { outbox: Pick<Outbox, 'enqueue'>; publicBaseUrl: () => string },
  trx: Db,
  email: Omit<OutgoingEmail, 'subject' | 'text'>,
  to: { expertId: string; reviewId: string; assignments: readonly { id: string; dueAt: Date }[] },
  render: (link: ExpertLink) => RenderedEmail,
): Promise<void> {
  const { token, hash } = newToken();
  const linkExpiresAt = assignmentLinkExpiry(to.assignments.map((a) => a.dueAt));
  const recorded = await insertAssignmentLink(trx, {
    tokenHash: hash,
    emailKey: email.idempotencyKey,
    expertId: to.expertId,
    reviewId: to.reviewId,
    assignmentIds: to.assignments.map((a) => a.id),
    expiresAt: linkExpiresAt,
  });
  if (!recorded) return;
  await deps.outbox.enqueue(
    {
      ...email,
      ...render({
        link: `${deps.publicBaseUrl()}${ASSIGNMENT_LINK_PATH}${token}`,
        linkExpiresAt,
        signInUrl: signInUrlOf(deps),
      }),
    },
    trx,
  );
}

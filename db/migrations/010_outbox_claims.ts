import type { Knex } from 'knex';

/**
 * A claimed outbox (issue 13, point 2). A sender claims a row before it hands it to SMTP — `pending` →
 * `sending`, with the claimant (`claimed_by`, a worker's `<pid>@<host>`), a token naming that one claim
 * (`claim_token`) and a lease (`claimed_until`) — so two senders never send the same row, and a claim whose
 * sender died is claimable again once its lease has run out. A failed hand-over returns the row to `pending`
 * with `last_error` and the time of the next attempt (`next_attempt_at`, backing off); after the last allowed
 * attempt it is `failed` (`failed_at`) and waits for staff to resend it.
 */
export async function up(knex: Knex): Promise<void> {
  await knex.raw('alter table email_outbox drop constraint if exists email_outbox_status_check');
  await knex.raw(
    `alter table email_outbox add constraint email_outbox_status_check
       check (status in ('pending', 'sending', 'sent', 'failed'))`,
  );
  await knex.schema.alterTable('email_outbox', (t) => {
    t.text('claimed_by');
    t.text('claim_token');
    t.timestamp('claimed_until', { useTz: true });
    /** When the sweeper may try a pending row (again). */
    t.timestamp('next_attempt_at', { useTz: true }).notNullable().defaultTo(knex.fn.now());
    t.timestamp('failed_at', { useTz: true });
  });
  // What the sweeper claims: due pending rows, and claims whose lease ran out.
  await knex.raw(`create index email_outbox_due on email_outbox (next_attempt_at, id) where status = 'pending'`);
  await knex.raw(`create index email_outbox_claims on email_outbox (claimed_until, id) where status = 'sending'`);
  // Staff's list by status, paged by id.
  await knex.raw('create index email_outbox_status_id on email_outbox (status, id)');
}

export async function down(knex: Knex): Promise<void> {
  await knex.raw('drop index if exists email_outbox_status_id');
  await knex.raw('drop index if exists email_outbox_claims');
  await knex.raw('drop index if exists email_outbox_due');
  await knex.raw(`update email_outbox set status = 'pending' where status in ('sending', 'failed')`);
  await knex.schema.alterTable('email_outbox', (t) => {
    t.dropColumn('failed_at');
    t.dropColumn('next_attempt_at');
    t.dropColumn('claimed_until');
    t.dropColumn('claim_token');
    t.dropColumn('claimed_by');
  });
  await knex.raw('alter table email_outbox drop constraint if exists email_outbox_status_check');
  await knex.raw(
    `alter table email_outbox add constraint email_outbox_status_check check (status in ('pending', 'sent'))`,
  );
}

import type { Knex } from 'knex';

/**
 * People sign in (issue 15, point 1 and 3). An `accounts` row is one person: staff of the centre (with a sub-role:
 * officer, administrator, ops), a user acting for one institution (university or college), for one partner
 * enterprise, or an expert of the pool. A disabled account keeps its row and its history (`disabled_*`).
 * `credentials_epoch` is bumped when the account is disabled or its password reset: every session and personal
 * access token remembers the epoch it was made under, and is refused once it differs, so both end at once.
 *
 * `account_links` are the one-time links of invitations and password resets (only a SHA-256 of the random token
 * is kept); `access_tokens` the personal access tokens (likewise hashed); `session` is connect-pg-simple's table
 * (its own `table.sql`, created here so the API never creates tables at runtime). `audit_events` gains the
 * acting account, and its role check admits the enterprise user.
 */
export async function up(knex: Knex): Promise<void> {
  await knex.schema.createTable('accounts', (t) => {
    t.uuid('id').primary().defaultTo(knex.raw('gen_random_uuid()'));
    t.text('kind').notNullable().checkIn(['staff', 'institution', 'enterprise', 'expert']);
    t.text('staff_role').checkIn(['officer', 'administrator', 'ops']);
    t.text('institution_id').references('institutions.id');
    t.text('enterprise_id').references('enterprises.id');
    t.text('expert_id').references('experts.id');
    /** Normalised (trimmed, lower-case) single mailbox; unique. */
    t.text('email').notNullable().unique();
    t.text('name').notNullable();
    /** argon2id PHC string; null until the invitation is accepted. */
    t.text('password_hash');
    /** Base32 TOTP secret (staff); `totp_confirmed_at` once a code confirmed it. */
    t.text('totp_secret');
    t.timestamp('totp_confirmed_at', { useTz: true });
    /** The last TOTP time step accepted at sign-in: a code is never accepted twice. */
    t.bigInteger('totp_last_step');
    t.integer('credentials_epoch').notNullable().defaultTo(0);
    t.timestamp('disabled_at', { useTz: true });
    t.text('disabled_by');
    t.text('disabled_reason');
    t.timestamp('created_at', { useTz: true }).notNullable().defaultTo(knex.fn.now());
    t.text('created_by').notNullable();
    t.timestamp('last_sign_in_at', { useTz: true });
  });
  await knex.raw(`alter table accounts add constraint accounts_kind_fits check (
    (kind = 'staff' and staff_role is not null and institution_id is null and enterprise_id is null and expert_id is null)
    or (kind = 'institution' and staff_role is null and institution_id is not null and enterprise_id is null and expert_id is null)
    or (kind = 'enterprise' and staff_role is null and institution_id is null and enterprise_id is not null and expert_id is null)
    or (kind = 'expert' and staff_role is null and institution_id is null and enterprise_id is null and expert_id is not null))`);
  await knex.raw(`alter table accounts add constraint accounts_disabled_has_reason check (
    disabled_at is null or (disabled_by is not null and disabled_reason is not null))`);

  await knex.schema.createTable('account_links', (t) => {
    t.bigIncrements('id');
    t.uuid('account_id').notNullable().references('accounts.id');
    t.text('purpose').notNullable().checkIn(['invitation', 'password_reset']);
    /** SHA-256 (hex) of the token in the link. */
    t.text('token_hash').notNullable().unique();
    t.timestamp('created_at', { useTz: true }).notNullable();
    t.timestamp('expires_at', { useTz: true }).notNullable();
    t.timestamp('used_at', { useTz: true });
    /** Set when a newer link of the same purpose replaced it. */
    t.timestamp('revoked_at', { useTz: true });
    t.index(['account_id', 'purpose']);
  });

  await knex.schema.createTable('access_tokens', (t) => {
    t.uuid('id').primary().defaultTo(knex.raw('gen_random_uuid()'));
    t.uuid('account_id').notNullable().references('accounts.id');
    t.text('name').notNullable();
    /** SHA-256 (hex) of the token. */
    t.text('token_hash').notNullable().unique();
    /** The account's `credentials_epoch` when it was made; a different one refuses the token. */
    t.integer('credentials_epoch').notNullable();
    t.timestamp('created_at', { useTz: true }).notNullable();
    t.timestamp('expires_at', { useTz: true }).notNullable();
    t.timestamp('revoked_at', { useTz: true });
    t.timestamp('last_used_at', { useTz: true });
    t.index(['account_id']);
  });

  // connect-pg-simple's table.sql, as shipped with version 10.
  await knex.raw(
    `create table "session" ("sid" varchar not null collate "default", "sess" json not null, "expire" timestamp(6) not null)`,
  );
  await knex.raw(
    `alter table "session" add constraint "session_pkey" primary key ("sid") not deferrable initially immediate`,
  );
  await knex.raw(`create index "IDX_session_expire" on "session" ("expire")`);

  await knex.schema.alterTable('audit_events', (t) => {
    t.uuid('account_id').references('accounts.id');
    t.index(['account_id']);
  });
  await dropRoleCheck(knex);
  await knex.raw(`alter table audit_events add constraint audit_events_role_check
    check (role in ('staff', 'expert', 'applicant', 'enterprise', 'public', 'system'))`);
}

/** The role check knex's `checkIn` made on `audit_events.role` (its name is PostgreSQL's choice). */
async function dropRoleCheck(knex: Knex): Promise<void> {
  const { rows } = await knex.raw<{ rows: { conname: string }[] }>(
    `select conname from pg_constraint
      where conrelid = 'audit_events'::regclass and contype = 'c' and pg_get_constraintdef(oid) like '%role%'`,
  );
  for (const r of rows) await knex.raw('alter table audit_events drop constraint ??', [r.conname]);
}

export async function down(knex: Knex): Promise<void> {
  await knex('audit_events').where({ role: 'enterprise' }).update({ role: 'system' });
  await dropRoleCheck(knex);
  await knex.raw(`alter table audit_events add constraint audit_events_role_check
    check (role in ('staff', 'expert', 'applicant', 'public', 'system'))`);
  await knex.schema.alterTable('audit_events', (t) => {
    t.dropColumn('account_id');
  });
  await knex.schema.dropTable('session');
  await knex.schema.dropTable('access_tokens');
  await knex.schema.dropTable('account_links');
  await knex.schema.dropTable('accounts');
}

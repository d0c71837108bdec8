import type { Knex } from 'knex';

/**
 * Reference data is versioned (issue 16, point 2): every change to a programme's rules, an institution, an
 * enterprise, a partnership or an expert of the pool is a new row of `reference_versions` — the whole record as
 * it stands after the change (`data`; null once removed), who made it, when, why and how (the API, an import, the
 * seed). Versions count from 1 per (kind, subject).
 *
 * A programme's rules: `programmes.rules` stays the current rules and `programmes.rules_version` says which
 * version they are; a round, an annual evaluation and a showcase keep the version they were launched with
 * (`rules_version`), and what they apply is read from that version, never from the current rules.
 *
 * Every row already in the database becomes its version 1 (`source` migration), and every round, evaluation and
 * showcase already launched keeps version 1: no rule could be changed before this migration.
 */
export async function up(knex: Knex): Promise<void> {
  await knex.schema.createTable('reference_versions', (t) => {
    t.text('kind')
      .notNullable()
      .checkIn(['programme_rules', 'institution', 'enterprise', 'partnership', 'expert'], 'reference_versions_kind');
    t.text('subject_id').notNullable();
    t.integer('version').notNullable();
    t.jsonb('data');
    t.text('reason').notNullable();
    t.text('actor').notNullable();
    t.uuid('account_id');
    t.text('source').notNullable().checkIn(['api', 'import', 'seed', 'migration'], 'reference_versions_source');
    t.text('import_sha256');
    t.timestamp('created_at', { useTz: true }).notNullable().defaultTo(knex.fn.now());
    t.primary(['kind', 'subject_id', 'version']);
    t.check('version >= 1', [], 'reference_versions_version_positive');
  });
  const first = { reason: '版本管理启用前的既有数据', actor: 'system:migration', source: 'migration', version: 1 };
  await knex.raw(
    `insert into reference_versions (kind, subject_id, version, data, reason, actor, source)
     select 'programme_rules', key, 1, rules, ?, ?, ? from programmes`,
    [first.reason, first.actor, first.source],
  );
  await knex.raw(
    `insert into reference_versions (kind, subject_id, version, data, reason, actor, source)
     select 'institution', id, 1, to_jsonb(i) , ?, ?, ? from institutions i`,
    [first.reason, first.actor, first.source],
  );
  await knex.raw(
    `insert into reference_versions (kind, subject_id, version, data, reason, actor, source)
     select 'enterprise', id, 1, to_jsonb(e), ?, ?, ? from enterprises e`,
    [first.reason, first.actor, first.source],
  );
  await knex.raw(
    `insert into reference_versions (kind, subject_id, version, data, reason, actor, source)
     select 'partnership', institution_id || '/' || enterprise_id, 1, to_jsonb(p), ?, ?, ? from institution_partners p`,
    [first.reason, first.actor, first.source],
  );
  await knex.raw(
    `insert into reference_versions (kind, subject_id, version, data, reason, actor, source)
     select 'expert', id, 1, to_jsonb(x), ?, ?, ? from experts x`,
    [first.reason, first.actor, first.source],
  );

  await knex.schema.alterTable('programmes', (t) => {
    t.integer('rules_version').notNullable().defaultTo(1);
  });
  for (const table of ['rounds', 'evaluations'] as const) {
    await knex.schema.alterTable(table, (t) => {
      t.integer('rules_version');
    });
    await knex(table).update({ rules_version: 1 });
    await knex.schema.alterTable(table, (t) => {
      t.dropNullable('rules_version');
    });
  }
  // A showcase applies the rules of typical_case (its call's working days and reminders).
  await knex.schema.alterTable('showcases', (t) => {
    t.integer('rules_version');
  });
  await knex('showcases').update({ rules_version: 1 });
  await knex.schema.alterTable('showcases', (t) => {
    t.dropNullable('rules_version');
  });
}

export async function down(knex: Knex): Promise<void> {
  for (const table of ['rounds', 'evaluations', 'showcases', 'programmes'] as const) {
    await knex.schema.alterTable(table, (t) => {
      t.dropColumn('rules_version');
    });
  }
  await knex.schema.dropTable('reference_versions');
}

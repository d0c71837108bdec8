import type { Knex } from 'knex';

/**
 * Life after 认定 and the showcase: a workflow per research project (立项 → 中期检查 → 结项, one extension),
 * and a yearly showcase of typical cases. Project reports and nominated cases are reviewed by experts like
 * everything else: the view `review_item_sources` gains both.
 */
export async function up(knex: Knex): Promise<void> {
  await knex.schema.alterTable('projects', (t) => {
    t.text('workflow_id');
    t.text('programme').references('programmes.key');
    t.text('field_key').references('industries.key');
    t.jsonb('compressed_time');
    t.integer('extension_months');
    t.text('extension_reason');
    t.text('extension_status').checkIn(['pending', 'approved', 'refused']);
    t.text('extension_decision_reason');
    t.text('terminated_reason');
    t.timestamp('created_at', { useTz: true }).defaultTo(knex.fn.now());
  });
  await knex.schema.alterTable('project_reports', (t) => {
    t.date('due_day');
    t.timestamp('due_at', { useTz: true });
    t.boolean('late').notNullable().defaultTo(false);
    t.decimal('score', 6, 2);
    t.integer('valid_scores');
    t.timestamp('decided_at', { useTz: true });
    t.setNullable('payload');
    t.setNullable('received_at');
  });
  await knex.schema.alterTable('showcases', (t) => {
    t.text('title_zh');
    t.text('workflow_id');
    t.integer('quota');
    t.date('nominations_due_day');
    t.timestamp('nominations_due_at', { useTz: true });
    t.boolean('estimated');
    t.jsonb('compressed_time');
    t.timestamp('published_at', { useTz: true });
  });
  await knex.schema.alterTable('showcase_cases', (t) => {
    t.decimal('score', 6, 2);
    t.integer('rank');
    t.text('nominated_by');
    t.index(['showcase_id', 'institution_id']);
    t.unique(['showcase_id', 'source_kind', 'source_id']);
  });
  await knex.raw(`
    create or replace view review_item_sources as
      select 'application'::text as item_kind, a.id::text as item_id, 'round'::text as subject_kind,
             a.round_id as subject_id, a.title_zh, a.institution_id, i.parent_id as parent_institution_id,
             i.name_zh as institution_name, a.field_key, a.received_at, a.id as application_id,
             v.payload as content, a.draft -> 'avoidExperts' as avoid_experts,
             (a.status = 'formal_passed') as ready
        from applications a
        join institutions i on i.id = a.institution_id
        left join application_versions v on v.application_id = a.id and v.version = a.current_version
      union all
      select 'evaluation_report', r.id::text, 'evaluation', r.evaluation_id, d.title_zh, d.institution_id,
             i.parent_id, i.name_zh, d.field_key, r.received_at, d.application_id, r.payload,
             oa.draft -> 'avoidExperts', (r.status = 'submitted')
        from evaluation_reports r
        join directory_entries d on d.id = r.directory_entry_id
        join institutions i on i.id = d.institution_id
        left join applications oa on oa.id = d.application_id
      union all
      select 'rectification', x.id::text, 'rectification', x.id::text, d.title_zh, d.institution_id,
             i.parent_id, i.name_zh, d.field_key, x.report_received_at, d.application_id, x.report_payload,
             oa.draft -> 'avoidExperts', (x.report_received_at is not null)
        from rectifications x
        join directory_entries d on d.id = x.directory_entry_id
        join institutions i on i.id = d.institution_id
        left join applications oa on oa.id = d.application_id
      union all
      select 'project_report', r.id::text, 'project_report', r.id::text, p.title_zh, p.institution_id,
             i.parent_id, i.name_zh, p.field_key, r.received_at, p.application_id, r.payload,
             oa.draft -> 'avoidExperts', (r.received_at is not null)
        from project_reports r
        join projects p on p.id = r.project_id
        join institutions i on i.id = p.institution_id
        left join applications oa on oa.id = p.application_id
      union all
      select 'case', c.id::text, 'showcase', c.showcase_id, c.title_zh, c.institution_id, i.parent_id, i.name_zh,
             c.industry_key, c.nominated_at, null::uuid, jsonb_build_object('summary', c.summary_zh), null::jsonb,
             (c.status = 'nominated')
        from showcase_cases c
        join institutions i on i.id = c.institution_id`);
}

export async function down(knex: Knex): Promise<void> {
  // The view without project reports is the one 006 created: recreate it by dropping the last branch.
  const { rows } = await knex.raw<{ rows: { definition: string }[] }>(
    `select pg_get_viewdef('review_item_sources'::regclass) as definition`,
  );
  const definition = rows[0]!.definition;
  await knex.raw('drop view review_item_sources');
  const withoutCases = definition.slice(0, definition.lastIndexOf('UNION ALL'));
  await knex.raw(`create view review_item_sources as ${withoutCases.slice(0, withoutCases.lastIndexOf('UNION ALL'))}`);
  await knex.schema.alterTable('showcase_cases', (t) => {
    t.dropUnique(['showcase_id', 'source_kind', 'source_id']);
    t.dropIndex(['showcase_id', 'institution_id']);
    for (const c of ['score', 'rank', 'nominated_by']) t.dropColumn(c);
  });
  await knex.schema.alterTable('showcases', (t) => {
    for (const c of [
      'title_zh',
      'workflow_id',
      'quota',
      'nominations_due_day',
      'nominations_due_at',
      'estimated',
      'compressed_time',
      'published_at',
    ])
      t.dropColumn(c);
  });
  await knex.schema.alterTable('project_reports', (t) => {
    for (const c of ['due_day', 'due_at', 'late', 'score', 'valid_scores', 'decided_at']) t.dropColumn(c);
  });
  await knex.schema.alterTable('projects', (t) => {
    for (const c of [
      'workflow_id',
      'programme',
      'field_key',
      'compressed_time',
      'extension_months',
      'extension_reason',
      'extension_status',
      'extension_decision_reason',
      'terminated_reason',
      'created_at',
    ])
      t.dropColumn(c);
  });
}

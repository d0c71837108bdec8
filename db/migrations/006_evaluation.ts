import type { Knex } from 'knex';

/**
 * Annual evaluation and rectification: an evaluation is a workflow with a due time for its reports; each
 * report, and each rectification report, is reviewed by experts like an application. The view
 * `review_item_sources` gives the expert review one shape for everything it reviews.
 */
export async function up(knex: Knex): Promise<void> {
  await knex.schema.alterTable('directory_entries', (t) => {
    // The field the entry serves (from its application): experts are matched by it.
    t.text('field_key').references('industries.key');
  });
  await knex.raw(`
    update directory_entries d set field_key = a.field_key
    from applications a where a.id = d.application_id and d.field_key is null`);

  await knex.schema.alterTable('evaluations', (t) => {
    t.text('title_zh');
    t.text('workflow_id');
    t.date('report_due_day');
    t.boolean('estimated');
    t.integer('calendar_version');
    t.jsonb('compressed_time');
    t.timestamp('published_at', { useTz: true });
    // This year's rectification period for members graded 不合格 (the programme's default if null).
    t.integer('rectification_months');
  });
  await knex.schema.alterTable('evaluation_reports', (t) => {
    t.text('status').notNullable().defaultTo('requested').checkIn(['requested', 'submitted', 'missing']);
    t.integer('valid_scores');
    t.text('grade_reason');
    t.timestamp('graded_at', { useTz: true });
  });
  await knex.schema.alterTable('publicity_entries', (t) => {
    // What is published about the entry besides its title: a grade, a removal.
    t.text('result_zh');
  });
  await knex.schema.alterTable('objections', (t) => {
    // Appeals against a removal are heard on procedural grounds only.
    t.text('grounds').checkIn(['substantive', 'procedural']);
  });
  await knex.schema.alterTable('rectifications', (t) => {
    t.text('workflow_id');
    t.integer('months');
    t.date('report_due_day');
    t.decimal('score', 6, 2);
    t.text('outcome_reason');
  });

  // Everything the expert review reviews, in one shape. `ready`: waiting to be assigned. `avoid_experts`: the
  // names the applicant asked to avoid (for a directory member, those of its original application).
  await knex.raw(`
    create view review_item_sources as
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
        left join applications oa on oa.id = d.application_id`);
}

export async function down(knex: Knex): Promise<void> {
  await knex.raw('drop view review_item_sources');
  await knex.schema.alterTable('rectifications', (t) => {
    for (const c of ['workflow_id', 'months', 'report_due_day', 'score', 'outcome_reason']) t.dropColumn(c);
  });
  await knex.schema.alterTable('objections', (t) => {
    t.dropColumn('grounds');
  });
  await knex.schema.alterTable('publicity_entries', (t) => {
    t.dropColumn('result_zh');
  });
  await knex.schema.alterTable('evaluation_reports', (t) => {
    for (const c of ['status', 'valid_scores', 'grade_reason', 'graded_at']) t.dropColumn(c);
  });
  await knex.schema.alterTable('evaluations', (t) => {
    for (const c of [
      'title_zh',
      'workflow_id',
      'report_due_day',
      'estimated',
      'calendar_version',
      'compressed_time',
      'published_at',
    ])
      t.dropColumn(c);
  });
  await knex.schema.alterTable('directory_entries', (t) => {
    t.dropColumn('field_key');
  });
}

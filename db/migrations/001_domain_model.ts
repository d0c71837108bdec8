import type { Knex } from 'knex';

/**
 * The whole domain model of SPEC.md: programmes and their rules, the people and organisations involved,
 * the calendar, every procedure's records, the email outbox and the audit trail. Workflows carry ids and
 * counts; lists and documents live here.
 */
export async function up(knex: Knex): Promise<void> {
  await knex.schema.createTable('industries', (t) => {
    t.text('key').primary();
    t.text('name_zh').notNullable();
  });

  await knex.schema.createTable('programmes', (t) => {
    t.text('key').primary();
    t.text('name_zh').notNullable();
    t.text('track').notNullable().checkIn(['project', 'directory', 'showcase']);
    t.boolean('enters_directory').notNullable();
    t.text('quota_note').notNullable();
    // Eligibility, limits, review, publicity and rubric: data, not code (see domain/programmes.ts).
    t.jsonb('rules').notNullable();
    t.timestamp('updated_at', { useTz: true }).notNullable().defaultTo(knex.fn.now());
  });

  await knex.schema.createTable('institutions', (t) => {
    t.text('id').primary();
    t.text('name_zh').notNullable();
    t.text('kind').notNullable().checkIn(['university', 'college']);
    t.text('parent_id').references('institutions.id');
    t.text('city').notNullable();
    t.text('contact_email').notNullable();
    t.text('contact_name');
    t.check("(kind = 'college') = (parent_id is not null)", [], 'institutions_college_has_parent');
  });

  await knex.schema.createTable('enterprises', (t) => {
    t.text('id').primary();
    t.text('name_zh').notNullable();
    t.text('industry_key').notNullable().references('industries.key');
    t.text('city').notNullable();
  });

  await knex.schema.createTable('institution_partners', (t) => {
    t.text('institution_id').notNullable().references('institutions.id');
    t.text('enterprise_id').notNullable().references('enterprises.id');
    t.primary(['institution_id', 'enterprise_id']);
  });

  await knex.schema.createTable('experts', (t) => {
    t.text('id').primary();
    t.text('name_zh').notNullable();
    t.text('email').notNullable().unique();
    t.text('affiliation_kind').notNullable().checkIn(['academic', 'industry']);
    t.text('institution_id').references('institutions.id');
    t.text('enterprise_id').references('enterprises.id');
    t.text('title_zh').notNullable();
    t.specificType('fields', 'text[]').notNullable();
    t.boolean('active').notNullable().defaultTo(true);
  });

  await knex.schema.createTable('expert_conflicts', (t) => {
    t.bigIncrements('id');
    t.text('expert_id').notNullable().references('experts.id');
    t.text('institution_id').references('institutions.id');
    t.text('enterprise_id').references('enterprises.id');
    t.text('reason').notNullable();
    t.text('source').notNullable().checkIn(['declared', 'decline', 'staff']);
    t.timestamp('declared_at', { useTz: true }).notNullable().defaultTo(knex.fn.now());
    t.check('(institution_id is not null) or (enterprise_id is not null)', [], 'expert_conflicts_has_party');
    t.index(['expert_id']);
  });

  // Individuals whose personal limits the rules count (principal investigators, members).
  await knex.schema.createTable('people', (t) => {
    t.uuid('id').primary().defaultTo(knex.raw('gen_random_uuid()'));
    t.text('institution_id').notNullable().references('institutions.id');
    t.text('staff_no').notNullable();
    t.text('name_zh').notNullable();
    t.text('email');
    t.unique(['institution_id', 'staff_no']);
  });

  // ---- Calendar: each year's arrangement is versioned; a computation records the version it used.
  await knex.schema.createTable('calendar_versions', (t) => {
    t.increments('id');
    t.integer('year').notNullable();
    t.text('source').notNullable();
    t.text('reference');
    t.text('entered_by').notNullable();
    t.timestamp('entered_at', { useTz: true }).notNullable().defaultTo(knex.fn.now());
    t.index(['year', 'id']);
  });
  await knex.schema.createTable('calendar_days', (t) => {
    t.integer('version_id').notNullable().references('calendar_versions.id');
    t.date('day').notNullable();
    t.text('kind').notNullable().checkIn(['holiday', 'workday']);
    t.text('name').notNullable();
    t.primary(['version_id', 'day']);
  });

  // ---- Procedure 1: call for applications.
  await knex.schema.createTable('rounds', (t) => {
    t.text('id').primary(); // the workflow id, round-<programme>-<year>
    t.text('programme').notNullable().references('programmes.key');
    t.integer('year').notNullable();
    t.text('title_zh').notNullable();
    t.text('status').notNullable();
    t.timestamp('opens_at', { useTz: true }).notNullable();
    t.date('deadline_day');
    t.timestamp('deadline_at', { useTz: true });
    t.boolean('deadline_estimated');
    t.integer('calendar_version');
    t.jsonb('config').notNullable().defaultTo('{}');
    t.double('time_scale'); // compressed time for demos and end-to-end tests; never in production
    t.text('launched_by').notNullable();
    t.timestamp('launched_at', { useTz: true }).notNullable().defaultTo(knex.fn.now());
    t.text('cancelled_reason');
    t.timestamp('closed_at', { useTz: true });
    t.unique(['programme', 'year'], { indexName: 'rounds_programme_year_unique' });
  });

  await knex.schema.createTable('applications', (t) => {
    t.uuid('id').primary().defaultTo(knex.raw('gen_random_uuid()'));
    t.text('round_id').notNullable().references('rounds.id');
    t.text('institution_id').notNullable().references('institutions.id');
    t.text('status').notNullable();
    t.text('title_zh').notNullable();
    t.text('field_key').references('industries.key');
    t.integer('current_version').notNullable().defaultTo(0);
    t.uuid('principal_person_id').references('people.id');
    t.specificType('avoid_expert_ids', 'text[]').notNullable().defaultTo('{}');
    t.timestamp('created_at', { useTz: true }).notNullable().defaultTo(knex.fn.now());
    t.timestamp('received_at', { useTz: true });
    t.timestamp('withdrawn_at', { useTz: true });
    t.text('formal_check_reason');
    t.check('cardinality(avoid_expert_ids) <= 2', [], 'applications_avoid_list_at_most_two');
    t.index(['round_id', 'status']);
    t.index(['institution_id']);
  });
  await knex.schema.createTable('application_versions', (t) => {
    t.uuid('application_id').notNullable().references('applications.id');
    t.integer('version').notNullable();
    t.jsonb('payload').notNullable();
    t.timestamp('received_at', { useTz: true }).notNullable();
    t.text('submitted_by').notNullable();
    t.primary(['application_id', 'version']);
  });
  await knex.schema.createTable('application_members', (t) => {
    t.uuid('application_id').notNullable().references('applications.id');
    t.uuid('person_id').notNullable().references('people.id');
    t.text('role').notNullable().checkIn(['principal', 'member']);
    t.primary(['application_id', 'person_id']);
  });
  await knex.schema.createTable('application_partners', (t) => {
    t.uuid('application_id').notNullable().references('applications.id');
    t.text('enterprise_id').notNullable().references('enterprises.id');
    t.primary(['application_id', 'enterprise_id']);
  });
  await knex.schema.createTable('attachments', (t) => {
    t.uuid('id').primary().defaultTo(knex.raw('gen_random_uuid()'));
    t.uuid('application_id').notNullable().references('applications.id');
    t.integer('version').notNullable();
    t.text('kind').notNullable();
    t.text('file_name').notNullable();
    t.text('content_type').notNullable();
    t.bigInteger('size_bytes').notNullable();
    t.specificType('sha256', 'char(64)').notNullable();
    t.text('storage_key').notNullable(); // files live outside the database
    t.timestamp('uploaded_at', { useTz: true }).notNullable().defaultTo(knex.fn.now());
    t.index(['application_id', 'version']);
  });

  // ---- Procedure 2: expert review (reused by evaluation, rectification, showcase and projects).
  await knex.schema.createTable('reviews', (t) => {
    t.uuid('id').primary().defaultTo(knex.raw('gen_random_uuid()'));
    t.text('subject_kind').notNullable(); // round, evaluation, rectification, showcase, project_midterm, project_final
    t.text('subject_id').notNullable();
    t.text('programme').notNullable().references('programmes.key');
    t.jsonb('rubric').notNullable();
    t.integer('experts_per_item').notNullable();
    t.text('status').notNullable();
    t.timestamp('created_at', { useTz: true }).notNullable().defaultTo(knex.fn.now());
    t.unique(['subject_kind', 'subject_id']);
  });
  await knex.schema.createTable('review_assignments', (t) => {
    t.uuid('id').primary().defaultTo(knex.raw('gen_random_uuid()'));
    t.uuid('review_id').notNullable().references('reviews.id');
    t.text('item_kind').notNullable(); // application, evaluation_report, rectification, case, project_report
    t.text('item_id').notNullable();
    t.text('expert_id').notNullable().references('experts.id');
    t.text('status').notNullable();
    t.timestamp('invited_at', { useTz: true }).notNullable().defaultTo(knex.fn.now());
    t.timestamp('due_at', { useTz: true }).notNullable();
    t.timestamp('responded_at', { useTz: true });
    t.text('decline_reason');
    t.uuid('replaces_assignment_id').references('review_assignments.id');
    t.unique(['review_id', 'item_kind', 'item_id', 'expert_id']);
    t.index(['expert_id', 'status']);
  });
  await knex.schema.createTable('review_scores', (t) => {
    t.uuid('assignment_id').primary().references('review_assignments.id');
    t.jsonb('scores').notNullable();
    t.decimal('total', 6, 2).notNullable();
    t.text('comment');
    t.timestamp('submitted_at', { useTz: true }).notNullable();
    t.timestamp('updated_at', { useTz: true }).notNullable();
  });

  // ---- Procedure 3: publicity period and objections.
  await knex.schema.createTable('publicity_periods', (t) => {
    t.uuid('id').primary().defaultTo(knex.raw('gen_random_uuid()'));
    t.text('subject_kind').notNullable();
    t.text('subject_id').notNullable();
    t.uuid('parent_id').references('publicity_periods.id'); // a re-publicity of a changed part
    t.text('title_zh').notNullable();
    t.integer('working_days').notNullable();
    t.date('first_day').notNullable();
    t.date('last_day').notNullable();
    t.timestamp('ends_at', { useTz: true }).notNullable();
    t.boolean('estimated').notNullable();
    t.integer('calendar_version').notNullable();
    t.text('status').notNullable();
    t.timestamp('published_at', { useTz: true }).notNullable().defaultTo(knex.fn.now());
    t.timestamp('closed_at', { useTz: true });
    t.index(['subject_kind', 'subject_id']);
  });
  await knex.schema.createTable('publicity_entries', (t) => {
    t.uuid('id').primary().defaultTo(knex.raw('gen_random_uuid()'));
    t.uuid('publicity_id').notNullable().references('publicity_periods.id');
    t.text('item_kind').notNullable();
    t.text('item_id').notNullable();
    t.text('institution_id').notNullable().references('institutions.id');
    t.text('title_zh').notNullable();
    t.integer('rank');
    t.text('status').notNullable();
    t.unique(['publicity_id', 'item_kind', 'item_id']);
  });
  await knex.schema.createTable('objections', (t) => {
    t.uuid('id').primary().defaultTo(knex.raw('gen_random_uuid()'));
    t.uuid('publicity_id').notNullable().references('publicity_periods.id');
    t.uuid('entry_id').references('publicity_entries.id');
    t.text('objector_name').notNullable();
    t.text('objector_unit').notNullable();
    t.text('objector_phone').notNullable();
    t.text('objector_email').notNullable();
    t.boolean('on_behalf_of_unit').notNullable().defaultTo(false);
    t.text('facts').notNullable();
    t.jsonb('evidence').notNullable().defaultTo('[]');
    t.timestamp('received_at', { useTz: true }).notNullable();
    t.text('idempotency_key').unique();
    t.text('status').notNullable().checkIn(['pending', 'upheld', 'dismissed']);
    t.text('resolution_reason');
    t.text('resolved_by');
    t.timestamp('resolved_at', { useTz: true });
    t.index(['publicity_id', 'status']);
  });

  // ---- Procedures 4 and 5: the directory, evaluation, rectification, bans.
  await knex.schema.createTable('directory_entries', (t) => {
    t.uuid('id').primary().defaultTo(knex.raw('gen_random_uuid()'));
    t.text('programme').notNullable().references('programmes.key');
    t.text('institution_id').notNullable().references('institutions.id');
    t.uuid('application_id').unique().references('applications.id');
    t.text('title_zh').notNullable();
    t.text('status').notNullable().checkIn(['active', 'rectifying', 'removal_pending', 'removed', 'revoked']);
    t.date('admitted_on').notNullable();
    t.date('removed_on');
    t.index(['programme', 'status']);
  });
  await knex.schema.createTable('evaluations', (t) => {
    t.text('id').primary(); // evaluation-<programme>-<year>
    t.text('programme').notNullable().references('programmes.key');
    t.integer('year').notNullable();
    t.text('status').notNullable();
    t.timestamp('report_due_at', { useTz: true });
    t.text('launched_by').notNullable();
    t.timestamp('launched_at', { useTz: true }).notNullable().defaultTo(knex.fn.now());
    t.unique(['programme', 'year']);
  });
  await knex.schema.createTable('evaluation_reports', (t) => {
    t.uuid('id').primary().defaultTo(knex.raw('gen_random_uuid()'));
    t.text('evaluation_id').notNullable().references('evaluations.id');
    t.uuid('directory_entry_id').notNullable().references('directory_entries.id');
    t.jsonb('payload');
    t.timestamp('received_at', { useTz: true });
    t.decimal('score', 6, 2);
    t.text('grade').checkIn(['excellent', 'good', 'pass', 'fail']);
    t.unique(['evaluation_id', 'directory_entry_id']);
  });
  await knex.schema.createTable('rectifications', (t) => {
    t.uuid('id').primary().defaultTo(knex.raw('gen_random_uuid()'));
    t.uuid('directory_entry_id').notNullable().references('directory_entries.id');
    t.text('evaluation_id').references('evaluations.id');
    t.date('started_on').notNullable();
    t.timestamp('due_at', { useTz: true }).notNullable();
    t.jsonb('report_payload');
    t.timestamp('report_received_at', { useTz: true });
    t.text('outcome').notNullable().checkIn(['pending', 'passed', 'failed', 'no_report']);
    t.timestamp('decided_at', { useTz: true });
  });
  await knex.schema.createTable('bans', (t) => {
    t.uuid('id').primary().defaultTo(knex.raw('gen_random_uuid()'));
    t.text('institution_id').notNullable().references('institutions.id');
    t.text('programme').notNullable().references('programmes.key');
    t.uuid('directory_entry_id').references('directory_entries.id');
    t.text('reason').notNullable();
    t.date('starts_on').notNullable();
    t.date('ends_on').notNullable();
    t.text('decided_by').notNullable();
    t.timestamp('decided_at', { useTz: true }).notNullable().defaultTo(knex.fn.now());
    t.index(['institution_id', 'programme']);
  });

  // ---- Research projects after 立项.
  await knex.schema.createTable('projects', (t) => {
    t.uuid('id').primary().defaultTo(knex.raw('gen_random_uuid()'));
    t.uuid('application_id').notNullable().unique().references('applications.id');
    t.text('institution_id').notNullable().references('institutions.id');
    t.uuid('principal_person_id').references('people.id');
    t.text('title_zh').notNullable();
    t.text('status').notNullable();
    t.date('starts_on').notNullable();
    t.date('ends_on').notNullable();
    t.date('extended_to');
    t.boolean('extension_used').notNullable().defaultTo(false);
  });
  await knex.schema.createTable('project_reports', (t) => {
    t.uuid('id').primary().defaultTo(knex.raw('gen_random_uuid()'));
    t.uuid('project_id').notNullable().references('projects.id');
    t.text('kind').notNullable().checkIn(['midterm', 'final']);
    t.integer('attempt').notNullable();
    t.jsonb('payload').notNullable();
    t.timestamp('received_at', { useTz: true }).notNullable();
    t.text('outcome');
    t.text('outcome_reason');
    t.unique(['project_id', 'kind', 'attempt']);
  });

  // ---- Procedure 6: outcome showcase and events.
  await knex.schema.createTable('showcases', (t) => {
    t.text('id').primary(); // showcase-<year>
    t.integer('year').notNullable().unique();
    t.text('status').notNullable();
    t.text('launched_by').notNullable();
    t.timestamp('launched_at', { useTz: true }).notNullable().defaultTo(knex.fn.now());
  });
  await knex.schema.createTable('showcase_cases', (t) => {
    t.uuid('id').primary().defaultTo(knex.raw('gen_random_uuid()'));
    t.text('showcase_id').notNullable().references('showcases.id');
    t.text('institution_id').notNullable().references('institutions.id');
    t.text('source_kind').notNullable().checkIn(['directory_entry', 'project']);
    t.uuid('source_id').notNullable();
    t.text('programme').notNullable().references('programmes.key');
    t.text('industry_key').references('industries.key');
    t.text('title_zh').notNullable();
    t.text('summary_zh').notNullable();
    t.text('status').notNullable();
    t.timestamp('nominated_at', { useTz: true }).notNullable().defaultTo(knex.fn.now());
  });
  await knex.schema.createTable('showcase_events', (t) => {
    t.uuid('id').primary().defaultTo(knex.raw('gen_random_uuid()'));
    t.text('showcase_id').references('showcases.id');
    t.text('kind').notNullable().checkIn(['roadshow', 'exhibition']);
    t.text('title_zh').notNullable();
    t.timestamp('starts_at', { useTz: true }).notNullable();
    t.text('place_zh').notNullable();
    t.text('status').notNullable();
    t.text('cancelled_reason');
  });
  await knex.schema.createTable('event_invitations', (t) => {
    t.uuid('event_id').notNullable().references('showcase_events.id');
    t.text('institution_id').notNullable().references('institutions.id');
    t.uuid('case_id').references('showcase_cases.id');
    t.text('status').notNullable().checkIn(['invited', 'confirmed', 'declined']);
    t.timestamp('responded_at', { useTz: true });
    t.boolean('attended');
    t.primary(['event_id', 'institution_id']);
  });

  // ---- Cross-cutting: email outbox and audit trail.
  await knex.schema.createTable('email_outbox', (t) => {
    t.bigIncrements('id');
    t.text('idempotency_key').notNullable().unique();
    t.text('message_id').notNullable();
    t.text('workflow_id');
    t.text('purpose').notNullable();
    t.text('recipient').notNullable();
    t.text('subject').notNullable();
    t.text('body_text').notNullable();
    t.text('status').notNullable().checkIn(['pending', 'sent']);
    t.integer('attempts').notNullable().defaultTo(0);
    t.timestamp('created_at', { useTz: true }).notNullable().defaultTo(knex.fn.now());
    t.timestamp('last_attempt_at', { useTz: true });
    t.timestamp('sent_at', { useTz: true });
    t.text('last_error');
    t.index(['workflow_id', 'purpose']);
  });
  await knex.schema.createTable('audit_events', (t) => {
    t.bigIncrements('id');
    t.timestamp('occurred_at', { useTz: true }).notNullable().defaultTo(knex.fn.now());
    t.text('actor').notNullable();
    t.text('role').notNullable().checkIn(['staff', 'expert', 'applicant', 'public', 'system']);
    t.text('action').notNullable();
    t.text('subject_kind').notNullable();
    t.text('subject_id').notNullable();
    t.text('reason');
    t.jsonb('details').notNullable().defaultTo('{}');
    t.text('request_id');
    t.text('workflow_id');
    t.index(['subject_kind', 'subject_id']);
    t.index(['action']);
  });
}

export async function down(knex: Knex): Promise<void> {
  const tables = [
    'audit_events',
    'email_outbox',
    'event_invitations',
    'showcase_events',
    'showcase_cases',
    'showcases',
    'project_reports',
    'projects',
    'bans',
    'rectifications',
    'evaluation_reports',
    'evaluations',
    'directory_entries',
    'objections',
    'publicity_entries',
    'publicity_periods',
    'review_scores',
    'review_assignments',
    'reviews',
    'attachments',
    'application_partners',
    'application_members',
    'application_versions',
    'applications',
    'rounds',
    'calendar_days',
    'calendar_versions',
    'people',
    'expert_conflicts',
    'experts',
    'institution_partners',
    'enterprises',
    'institutions',
    'programmes',
    'industries',
  ];
  for (const table of tables) await knex.schema.dropTableIfExists(table);
}

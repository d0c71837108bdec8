import type { Knex } from 'knex';

/**
 * The experts a submitted version avoids (回避) are kept with the version (issue 15 walk). Until now assignment
 * read the avoid list of the application's working draft, which the applicant may change after submitting;
 * the submitted version is the record (SPEC "Call for applications": versions kept; "Expert review": avoidance
 * never violated). `application_versions.avoid_expert_ids` holds the expert ids the version's avoid list
 * resolved to, copied at submission from the draft that became the version (`storeSubmission`).
 *
 * Backfill: a version is given the applications row's `avoid_expert_ids` only where that row still describes it —
 * it is the current version and the working draft has not changed since (`revision` equal), and the stored ids
 * are not the empty list of a draft saved before avoid lists were resolved. Every other version keeps NULL:
 * "not recorded at submission", and assignment (`reviewItems`) then avoids every active expert the version's own
 * entries (`payload.draft.avoidExperts`) name, namesakes included — never the working draft's.
 */
export async function up(knex: Knex): Promise<void> {
  await knex.schema.alterTable('application_versions', (t) => {
    t.specificType('avoid_expert_ids', 'text[]');
  });
  await knex.raw(`
    update application_versions v
       set avoid_expert_ids = a.avoid_expert_ids
      from applications a
     where a.id = v.application_id
       and v.version = a.current_version
       and v.revision = a.revision
       and (cardinality(a.avoid_expert_ids) > 0
            or coalesce(jsonb_array_length(case when jsonb_typeof(v.payload -> 'draft' -> 'avoidExperts') = 'array'
                                                then v.payload -> 'draft' -> 'avoidExperts' end), 0) = 0)`);
}

export async function down(knex: Knex): Promise<void> {
  await knex.schema.alterTable('application_versions', (t) => {
    t.dropColumn('avoid_expert_ids');
  });
}

/**
 * What an expert review (procedure 2, SPEC §2) can be of — a round's applications, a year's evaluation
 * reports, one rectification report, a project's report, the showcase's cases — and the kind of item each
 * reviews. Pure: shared by the review workflow, its activities and the repositories.
 */
export type ReviewSubjectKind = 'round' | 'evaluation' | 'rectification' | 'project_report' | 'showcase';

/** The kind of item an expert scores, as stored in `review_assignments.item_kind`. */
export type ReviewItemKind = 'application' | 'evaluation_report' | 'rectification' | 'project_report' | 'case';

/** The item kind each review subject reviews. */
export const itemKindOf: Record<ReviewSubjectKind, ReviewItemKind> = {
  round: 'application',
  evaluation: 'evaluation_report',
  rectification: 'rectification',
  project_report: 'project_report',
  showcase: 'case',
};

import type { Db } from '../knex.js';

/** A midterm or final report of a research project, as the API shows it. */
export interface ProjectReportView {
  id: string;
  kind: 'midterm' | 'final';
  /** 2 for a final report submitted again after a failed review. */
  attempt: number;
  dueAt: Date | null;
  receivedAt: Date | null;
  late: boolean;
  outcome: 'passed' | 'failed' | null;
  outcomeReason: string | null;
  score: number | null;
}

/** A project's reports: the midterm first, then the final by attempt. */
export async function projectReports(db: Db, projectId: string): Promise<ProjectReportView[]> {
  const reports = await db('project_reports')
    .where({ project_id: projectId })
    .orderBy([{ column: 'kind', order: 'desc' }, { column: 'attempt' }])
    .select<
      {
        id: string;
        kind: 'midterm' | 'final';
        attempt: number;
        due_at: Date | null;
        received_at: Date | null;
        late: boolean;
        outcome: 'passed' | 'failed' | null;
        outcome_reason: string | null;
        score: string | null;
      }[]
    >('id', 'kind', 'attempt', 'due_at', 'received_at', 'late', 'outcome', 'outcome_reason', 'score');
  return reports.map((r) => ({
    id: r.id,
    kind: r.kind,
    attempt: r.attempt,
    dueAt: r.due_at,
    receivedAt: r.received_at,
    late: r.late,
    outcome: r.outcome,
    outcomeReason: r.outcome_reason,
    score: r.score === null ? null : Number(r.score),
  }));
}

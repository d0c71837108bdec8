/** A research project under test: its id, its institution, the contact address and the applicant's token. */
export interface Project {
  projectId: string;
  institutionId: string;
  email: string;
  token: string;
}

/** What `GET /api/projects/:id` answers (the parts the tests read). */
export interface ProjectView {
  status: string;
  endsOn: string;
  reports: {
    reportId: string;
    kind: string;
    attempt: number;
    dueAt: string;
    outcome: string | null;
    outcomeReason: string | null;
    late: boolean;
  }[];
}

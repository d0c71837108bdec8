/** A directory member under test: its entry, institution, contact address and the applicant's token. */
export interface Member {
  key: 'A' | 'B' | 'C' | 'D';
  entryId: string;
  institutionId: string;
  email: string;
  token: string;
}

/** A `rectifications` row as the tests read it. */
export interface Rectification {
  id: string;
  directory_entry_id: string;
  due_at: Date;
  months: number;
}

/** The real-name person who files objections and appeals in the member tests. */
export const objector = {
  name: '王立新',
  unit: '河南省教育评估中心',
  phone: '0371-66001234',
  email: 'wang.lixin@example.com',
};

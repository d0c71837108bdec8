import { expect } from 'vitest';
import type { Db } from '../../db/knex.js';
import { collegeEmail, universities, universityEmail } from '../../db/seeds/reference-data.js';
import type { TestStack } from './stack.js';

/**
 * The cast of the yearly round told in test/e2e/round.call.test.ts: who applies with how many applications,
 * what they submit, the review pool, and the scores the experts give.
 */

/** How many applications each institution hands in (12 institutions, 30 applications). */
export const plan: Record<string, number> = {
  zzu: 3,
  henu: 3,
  hpu: 3,
  haust: 3,
  henau: 2,
  htu: 2,
  'zzu-cs': 3,
  'hpu-energy': 2,
  'haust-vehicle': 2,
  'ncwu-elec': 3,
  'zzuli-food': 2,
  'xynu-cs': 2,
};

/** The contact address of an institution id (a university, or `<university>-<college>`). */
export function contactOf(id: string): string {
  const [university, suffix] = id.split('-');
  return suffix ? collegeEmail(university!, id.slice(university!.length + 1)) : universityEmail(id);
}

/** The n-th application an institution drafts. */
export function draft(institution: string, n: number) {
  return {
    title: `${institution} 产教融合品牌项目 ${n}`,
    field: 'next_gen_it',
    summary:
      '面向新一代信息技术产业需求，校企共建课程体系与实践平台，联合培养应用型人才，建设期内形成可复制推广的产教融合品牌，并在省内同类高校推广应用。',
    partnerEnterpriseIds: ['xfusion'],
  };
}

/** A minimal PDF, the 申报书 attachment. */
export const pdf = Buffer.from('%PDF-1.7\n1 0 obj <<>> endobj\n%%EOF\n');

/** 15 experts of the field: nine from universities with no application here, six from industry. */
export const pool = [
  ...['xxmu', 'lynu', 'nyist', 'ayit', 'huanghuai', 'xcu', 'pdsu', 'hist', 'haue'].map((u, i) => ({
    id: `p-${String(i + 1).padStart(2, '0')}`,
    name_zh: `评审专家${i + 1}`,
    email: `p-${String(i + 1).padStart(2, '0')}@pool.ronghe.example`,
    institution_id: u,
    enterprise_id: null,
  })),
  ...['newcapec', 'hanwei', 'yutong', 'zmj', 'crtg', 'muyuan'].map((e, i) => ({
    id: `p-${String(i + 10).padStart(2, '0')}`,
    name_zh: `评审专家${i + 10}`,
    email: `p-${String(i + 10).padStart(2, '0')}@pool.ronghe.example`,
    institution_id: null,
    enterprise_id: e,
  })),
];

/** Scores that rank applications by their number in the plan (deterministic, a spread of a few points). */
export function sheet(rubric: { key: string }[], base: number) {
  return Object.fromEntries(rubric.map((c, i) => [c.key, Math.min(100, base + i)]));
}

/** The review pool for this round: the 15 experts of the field (no other is active), three with declared conflicts. */
export async function insertReviewPool(db: Db): Promise<void> {
  await db('experts').update({ active: false });
  await db('experts').insert(
    pool.map((e) => ({
      ...e,
      affiliation_kind: e.institution_id ? 'academic' : 'industry',
      title_zh: '教授',
      fields: ['next_gen_it'],
    })),
  );
  await db('expert_conflicts').insert([
    { expert_id: 'p-01', institution_id: 'henu', reason: '曾任该校兼职教授', source: 'declared' },
    { expert_id: 'p-02', institution_id: 'zzu', reason: '近三年与该校合作科研项目', source: 'declared' },
    { expert_id: 'p-11', enterprise_id: 'xfusion', reason: '曾任职于该企业', source: 'declared' },
  ]);
}

/**
 * Every institution drafts its applications of the plan through the API (henu one more, over its limit) and
 * uploads the 申报书, so that each keeps the rules judged at submission. Returns the application ids per
 * institution, in drafting order. (henau's second and ncwu-elec's third will lose their stored 申报书 after
 * submission — `loseStoredForms` — and fail the formal check.)
 */
export async function draftApplications(
  stack: TestStack,
  roundId: string,
  tokens: Record<string, string>,
): Promise<Record<string, string[]>> {
  const ids: Record<string, string[]> = {};
  await Promise.all(
    Object.entries(plan).map(async ([institution, count]) => {
      ids[institution] = [];
      for (let n = 1; n <= count + (institution === 'henu' ? 1 : 0); n++) {
        const body = draft(institution, n);
        const created = await stack.request<{ applicationId: string }>('POST', `/api/rounds/${roundId}/applications`, {
          token: tokens[institution],
          body,
        });
        expect(created.status, JSON.stringify(created.body)).toBe(201);
        const appId = created.body.applicationId;
        {
          const upload = await fetch(
            `${stack.api.url}/api/applications/${appId}/attachments?kind=application_form&fileName=${encodeURIComponent('申报书.pdf')}`,
            {
              method: 'POST',
              headers: { Authorization: `Bearer ${tokens[institution]}`, 'Content-Type': 'application/pdf' },
              body: pdf,
            },
          );
          expect(upload.status).toBe(201);
        }
        ids[institution].push(appId);
      }
    }),
  );
  return ids;
}

/** The two applications whose stored 申报书 is lost after submission: only the formal check finds it. */
export function formalFailures(ids: Record<string, string[]>): string[] {
  return [ids.henau![1]!, ids['ncwu-elec']![2]!];
}

/** Loses the stored 申报书 of `applicationIds` (their rows name a file that is gone), as a storage fault would. */
export async function loseStoredForms(db: Db, applicationIds: string[]): Promise<void> {
  await db('attachments').whereIn('application_id', applicationIds).update({ storage_key: 'lost/not-there' });
}

/** An audit row as the round's audit assertions compare it; the role is the actor's prefix. */
export function auditRow(actor: string, action: string, subjectId: string, reason: string | null = null) {
  return { actor, role: actor.split(':')[0], action, subject_id: subjectId, reason };
}

/** What the round's story decided, for the audit check. */
export interface RoundStory {
  ids: Record<string, string[]>;
  declinedAssignment: string;
  excluded: string;
  upheldObjection: string;
  dismissedObjection: string;
  substitute: string;
}

/** Every decision of the story (and the system's own) has exactly one audit row, with its actor and reason. */
export async function expectEveryDecisionAudited(db: Db, roundId: string, story: RoundStory): Promise<void> {
  const audit = await db('audit_events')
    .whereNot({ action: 'application.receipt' })
    .orderBy('id')
    .select<{ actor: string; role: string; action: string; subject_id: string; reason: string | null }[]>(
      'actor',
      'role',
      'action',
      'subject_id',
      'reason',
    );
  const rowsFor = (action: string, subject: string) =>
    audit.filter((a) => a.action === action && a.subject_id === subject);
  expect(rowsFor('round.launch', roundId)).toEqual([auditRow('staff:officer-li', 'round.launch', roundId)]);
  for (const [institution, count] of Object.entries(plan)) {
    for (const appId of story.ids[institution]!.slice(0, count)) {
      expect(rowsFor('application.submit', appId)).toEqual([
        auditRow(`applicant:${institution}`, 'application.submit', appId),
      ]);
    }
  }
  expect(rowsFor('application.resubmit', story.ids.zzu![0]!)).toHaveLength(1);
  expect(rowsFor('application.withdraw', story.ids.htu![1]!)).toEqual([
    auditRow('applicant:htu', 'application.withdraw', story.ids.htu![1]!, '与学校另一项目内容重复'),
  ]);
  const checks = audit.filter((a) => a.action.startsWith('application.formal_check'));
  expect(checks).toHaveLength(29);
  expect(checks.every((c) => c.role === 'system' && c.actor === 'system:formal-check')).toBe(true);
  expect(checks.filter((c) => c.action === 'application.formal_check_failed').every((c) => c.reason)).toBe(true);
  expect(rowsFor('review.decline', story.declinedAssignment)).toEqual([
    auditRow('expert:p-04', 'review.decline', story.declinedAssignment, '与该申报团队有合作关系'),
  ]);
  expect(audit.filter((a) => a.action === 'review.submit')).toHaveLength(81);
  expect(
    audit
      .filter((a) => a.action === 'review.submit')
      .every((a) => a.role === 'expert' && a.actor.startsWith('expert:p-')),
  ).toBe(true);
  expect(rowsFor('shortlist.exclude', story.excluded)).toEqual([
    auditRow('staff:officer-li', 'shortlist.exclude', story.excluded, '该项目与已认定品牌项目内容重复'),
  ]);
  expect(rowsFor('round.confirm_shortlist', roundId)).toHaveLength(1);
  expect(rowsFor('round.extend_deadline', roundId)).toEqual([
    auditRow('staff:officer-li', 'round.extend_deadline', roundId, '应多所高校请求，延长五周'),
  ]);
  expect(rowsFor('application.submit_refused', story.ids.henu![3]!).map((r) => r.reason)).toEqual([
    expect.stringContaining('限报'),
    expect.stringContaining('截止'),
  ]);
  expect(audit.filter((a) => a.action === 'objection.file').map((a) => [a.actor, a.role])).toEqual(
    expect.arrayContaining([
      ['public:张明', 'public'],
      ['public:李红', 'public'],
    ]),
  );
  expect(audit.filter((a) => a.action === 'objection.file')).toHaveLength(2);
  expect(rowsFor('objection.uphold', story.upheldObjection)).toEqual([
    auditRow(
      'staff:officer-li',
      'objection.uphold',
      story.upheldObjection,
      '经核查，合作企业已注销，申报材料与事实不符',
    ),
  ]);
  expect(rowsFor('objection.dismiss', story.dismissedObjection)).toEqual([
    auditRow('staff:officer-li', 'objection.dismiss', story.dismissedObjection, '经核查，建设成效数据有佐证材料支撑'),
  ]);
  expect(rowsFor('publicity.substitute', story.substitute)).toHaveLength(1);
  expect(rowsFor('round.approve', roundId)).toHaveLength(1);
}

/**
 * The emails the round owes, exactly: call notices, a receipt per accepted submission, three reminders to those
 * who did not submit, the formal check's failures, review invitations (`invited` includes the replacement),
 * staff's review report, the extension, the publicity notices to the entries listed, the objectors' answers,
 * the removed entry's notice, the approval notices and the results to those not on the list.
 */
export function expectedRoundEmails(story: {
  invited: string[];
  removedBy: string;
  approvedBy: string[];
  /** Institutions of the reviewed applications left off the final list, one per application. */
  notShortlistedBy: string[];
}): { to: string; purpose: string }[] {
  const eligible = universities.flatMap((u) => [
    universityEmail(u.id),
    ...u.colleges.map(([s]) => collegeEmail(u.id, s)),
  ]);
  const submittedBy = new Set(Object.keys(plan).map(contactOf));
  return [
    ...eligible.map((to) => ({ to, purpose: 'call_notice' })),
    // A receipt per accepted submission: every application of the plan, and zzu's resubmission.
    ...Object.entries(plan).flatMap(([institution, count]) =>
      Array.from({ length: count }, () => ({ to: contactOf(institution), purpose: 'submission_receipt' })),
    ),
    { to: contactOf('zzu'), purpose: 'submission_receipt' },
    ...[1, 2, 3].flatMap(() =>
      eligible.filter((to) => !submittedBy.has(to)).map((to) => ({ to, purpose: 'call_reminder' })),
    ),
    { to: contactOf('henau'), purpose: 'formal_check_failed' },
    { to: contactOf('ncwu-elec'), purpose: 'formal_check_failed' },
    ...story.invited.map((id) => ({ to: `${id}@pool.ronghe.example`, purpose: 'review_invitation' })),
    { to: 'staff@ronghe.example', purpose: 'review_completed' },
    ...eligible.map((to) => ({ to, purpose: 'deadline_extended' })),
    // Every entry listed is told its publicity opened: the approved ones (the substitute in the second
    // period) and the one removed on objection.
    ...[...story.approvedBy, story.removedBy].map((institution) => ({
      to: contactOf(institution),
      purpose: 'publicity_opened',
    })),
    { to: 'zhang.ming@objector.example', purpose: 'objection_resolved' },
    { to: 'li.hong@objector.example', purpose: 'objection_resolved' },
    { to: contactOf(story.removedBy), purpose: 'entry_removed' },
    ...story.approvedBy.map((institution) => ({ to: contactOf(institution), purpose: 'approval_notice' })),
    ...story.notShortlistedBy.map((institution) => ({
      to: contactOf(institution),
      purpose: 'not_shortlisted_notice',
    })),
  ];
}

/** The API reads and the submission the round's steps repeat; `stack` and the tokens are read when called. */
export function roundReaders(
  stackOf: () => TestStack,
  ROUND: string,
  who: { staff: () => string; tokens: () => Record<string, string> },
) {
  const submit = (institution: string, appId: string) =>
    stackOf().request<{ version: number; warnings: string[]; code?: string; title?: string }>(
      'POST',
      `/api/applications/${appId}/submit`,
      {
        token: who.tokens()[institution],
      },
    );
  const round2 = async () =>
    (await stackOf().request<{ workflow: { stage: string } }>('GET', `/api/rounds/${ROUND}`, { token: who.staff() }))
      .body.workflow;
  const assignmentsOf = async (expertId: string) => {
    const token = await stackOf().token({ role: 'expert', id: expertId });
    const res = await stackOf().request<{ items: { assignmentId: string; applicationId: string; status: string }[] }>(
      'GET',
      '/api/me/assignments',
      { token },
    );
    return { token, items: res.body.items };
  };
  const periods = async () =>
    (
      await stackOf().request<{ items: { publicityId: string; status: string; parentId: string | null }[] }>(
        'GET',
        `/api/rounds/${ROUND}/publicity`,
      )
    ).body.items;
  return { submit, round2, assignmentsOf, periods };
}

/** A row of the shortlist staff read. */
export interface ShortlistItem {
  applicationId: string;
  title: string;
  rank: number;
  recommended: boolean;
  validScores: number;
  flags: string[];
}

const objector = { unit: '河南某职业技术学院', phone: '0371-66668888', onBehalfOfUnit: false };

/** The two real-name objections of the story: 张明's will be upheld, 李红's (for her unit) dismissed. */
export const objections = {
  zhang: (entryId: string) => ({
    ...objector,
    name: '张明',
    email: 'zhang.ming@objector.example',
    entryId,
    facts: '该项目申报材料中的合作企业协议与实际不符，合作企业已于去年注销。',
    evidence: ['企业信用信息公示系统查询结果截图'],
  }),
  li: (entryId: string) => ({
    ...objector,
    name: '李红',
    email: 'li.hong@objector.example',
    onBehalfOfUnit: true,
    entryId,
    facts: '该项目的建设成效数据疑似夸大，请核实。',
  }),
};

/** Files an objection on the public route with an Idempotency-Key, as a browser form would. */
export async function fileObjection(stack: TestStack, publicityId: string, body: unknown, key: string) {
  const r = await fetch(`${stack.api.url}/api/publicity/${publicityId}/objections`, {
    method: 'POST',
    headers: { 'Content-Type': 'application/json', 'Idempotency-Key': key },
    body: JSON.stringify(body),
  });
  return { status: r.status, body: (await r.json()) as { objectionId: string } };
}

import { Readable } from 'node:stream';
import { setPasswordHash } from '../../db/repositories/accounts.js';
import { recordAudit } from '../../db/repositories/audit.js';
import { insertRound } from '../../db/repositories/round.js';
import { addAttachment } from '../../db/repositories/round.applications.js';
import {
  memberWorkflowId,
  projectWorkflowId,
  publicityWorkflowId,
  reviewWorkflowId,
  roundWorkflowId,
} from '../../domain/workflow-ids.js';
import type { MemberWorkflow } from '../../workflows/member.messages.js';
import type { ProjectWorkflow } from '../../workflows/project.messages.js';
import type { PublicityMemory, PublicityWorkflow } from '../../workflows/publicity.messages.js';
import type { ReviewState, ReviewWorkflow } from '../../workflows/review.messages.js';
import { hashPassword } from '../../services/accounts.js';
import { accountAccessToken, addAccessToken } from './accounts.js';
import { pdf } from './round.call.js';
import { TEST_TASK_QUEUE, type TestStack, type TestStackOptions } from './stack.js';
import { eventually } from './wait.js';

/**
 * The test stack's settings for a run that sends many requests from one address (the contract run, the
 * authorization matrix): objection and sign-in limits out of the way. Decisions are not crashed after their
 * commit (every other end-to-end file proves the retry), each would cost a retry's wait.
 */
export const MANY_CALLS_STACK: TestStackOptions = {
  env: {
    OBJECTION_RATE_LIMIT: '100000',
    OBJECTION_EMAIL_RATE_LIMIT: '100000',
    OBJECTION_PUBLICITY_RATE_LIMIT: '1000000',
    SIGNIN_ACCOUNT_RATE_LIMIT: '100000',
    SIGNIN_ADDRESS_RATE_LIMIT: '100000',
  },
  decisionFaults: false,
};

/** The applicant institution of the contract run: it owns every applicant-side record seeded here. */
export const CONTRACT_INSTITUTION = 'henu';

/**
 * The objector's address inside the seeded receipt's request (`updateArg`): personal data only officers and
 * administrators may read (the matrix hides it from everyone else).
 */
export const CONTRACT_RECEIPT_EMAIL = 'receipt.objector@objector.example';

/** The roles the contract runs as. */
export type ContractRole = 'staff' | 'applicant' | 'expert';

/**
 * The ids each role's contract run is given (`test/contract/schemathesis.toml` reads them from the environment
 * as `CONTRACT_<NAME>`): records that role owns or may act on, in the states the routes act on.
 */
export interface ContractIds {
  /**
   * Each role's account, the personal access token it runs with (`token`, id `tokenId`; neither may be disabled
   * or revoked by the run) and a spare token of its own to revoke. Staff's is a staff administrator's (an
   * administrator is staff, so its run covers the staff routes and the administrator-only account routes), the
   * applicant's an account of the institution, the expert's the expert's account.
   */
  accounts: Record<ContractRole, { token: string; accountId: string; tokenId: string; spareTokenId: string }>;
  /** An account for the administrator to disable and enable, and one still to set up, to re-invite. */
  disablableAccountId: string;
  invitableAccountId: string;
  /** An account ready to sign in with (POST /api/session): an institution user, no second factor. */
  signIn: { email: string; password: string };
  /** The references a new account may name (the seeded enterprise, an expert of the pool). */
  enterpriseId: string;
  poolExpertId: string;
  /** An open round (real time) with the applicant's application. */
  roundId: string;
  applicationId: string;
  attachmentId: string;
  /** A round in expert review: the expert's assignment, on an application with an attachment. */
  reviewRoundId: string;
  reviewId: string;
  assignmentId: string;
  /** The expert's other assignment (declining it leaves the first to accept and score). */
  declinableAssignmentId: string;
  /** The keys of the review's rubric: a score sheet names each. */
  rubricKeys: string[];
  reviewedApplicationId: string;
  reviewedAttachmentId: string;
  /** A round in publicity, one of its listed entries, and an objection filed against it. */
  publicityRoundId: string;
  publicityId: string;
  publicityEntryId: string;
  objectionId: string;
  /**
   * The applicant's directory entries: one under evaluation (staff grade it), one staff may revoke, one the
   * applicant nominates for the showcase (nobody changes it).
   */
  entryId: string;
  revocableEntryId: string;
  nominableEntryId: string;
  evaluationId: string;
  projectId: string;
  /** Another project, for staff to terminate, and another event, for staff to change or cancel. */
  terminableProjectId: string;
  eventId: string;
  changeableEventId: string;
  /** An open round for staff to cancel. */
  cancellableRoundId: string;
  showcaseId: string;
  scheduleId: string;
  outboxId: string;
  receiptId: string;
  /** A running workflow that supervises children (the first entry's member workflow). */
  workflowId: string;
  /**
   * The other callers of the authorization matrix (test/support/authorization.matrix.ts), each an account with a
   * personal access token: a staff officer, an ops engineer, a user of another university (`zzu`), of a college of
   * the contract institution (`henu-cs`), of the partner enterprise, and an expert of the pool (of another field)
   * assigned to nothing seeded here.
   */
  others: Record<
    'officer' | 'ops' | 'otherUniversity' | 'college' | 'enterprise' | 'unassignedExpert',
    { token: string; accountId: string }
  >;
}

/** The college of the contract institution whose user the authorization matrix calls with. */
export const CONTRACT_COLLEGE = `${CONTRACT_INSTITUTION}-cs`;

async function ok<T>(stack: TestStack, method: string, path: string, token: string, body?: unknown): Promise<T> {
  const res = await stack.request<T>(method, path, { token, body });
  if (res.status >= 300) throw new Error(`${method} ${path}: ${res.status} ${JSON.stringify(res.body)}`);
  return res.body;
}

/** `days` from now as a Shanghai-offset timestamp, at 09:30. */
function daysAhead(days: number): string {
  const d = new Date(Date.now() + days * 86_400_000 + 8 * 3_600_000);
  return `${d.toISOString().slice(0, 10)}T09:30:00+08:00`;
}

/**
 * Seeds, through the documented API where it has a route and otherwise as the procedures leave their records
 * (rows plus the workflow the procedure would have started, like the e2e tests of each procedure), every record
 * the three roles' contract runs need.
 */
export async function seedContract(stack: TestStack): Promise<ContractIds> {
  const db = stack.database.db;
  // Each role acts through an account's personal access token, with a second token of its own to revoke.
  const account = async (a: Parameters<typeof accountAccessToken>[1]) => {
    const { epoch, ...made } = await accountAccessToken(db, a);
    const spare = await addAccessToken(db, made.accountId, epoch, 'contract-spare');
    return { ...made, spareTokenId: spare.tokenId };
  };
  const admin = await account({
    kind: 'staff',
    staffRole: 'administrator',
    email: 'contract-admin@ronghe.example',
    name: '契约测试管理员',
  });
  const applicant = await account({
    kind: 'institution',
    institutionId: CONTRACT_INSTITUTION,
    email: 'contract-applicant@henu.example',
    name: '契约测试申报人',
  });
  const staffToken = admin.token;
  const applicantToken = applicant.token;
  // Accounts the administrator acts on: one to disable and enable, one invited but not set up (to re-invite);
  // and one ready to sign in with.
  const insertPlain = async (row: Record<string, unknown>) =>
    (
      await db('accounts')
        .insert({ created_by: 'test', ...row })
        .returning<{ id: string }[]>('id')
    )[0]!.id;
  const disablableAccountId = await insertPlain({
    kind: 'enterprise',
    enterprise_id: 'hanwei',
    email: 'contract-disable@hanwei.example',
    name: '契约测试企业用户',
  });
  const invitableAccountId = await insertPlain({
    kind: 'institution',
    institution_id: 'zzu',
    email: 'contract-invite@zzu.example',
    name: '契约测试待设置',
  });
  const signIn = { email: 'contract-sign-in@hpu.example', password: 'contract-sign-in-password-2027' };
  const signInAccountId = await insertPlain({
    kind: 'institution',
    institution_id: 'hpu',
    email: signIn.email,
    name: '契约测试登录',
  });
  await setPasswordHash(db, signInAccountId, await hashPassword(signIn.password), { endCredentials: false });
  const year = new Date().getUTCFullYear() + 1;
  // A round of `year` as its launch leaves it, opened `daysAgo` (for the rounds past their call).
  const insertOpenedRound = async (
    programme: 'brand_project' | 'research_project',
    titleZh: string,
    daysAgo: number,
  ) => {
    const id = roundWorkflowId(programme, year);
    await insertRound(db, {
      id,
      programme,
      year,
      titleZh,
      opensAt: new Date(Date.now() - daysAgo * 86_400_000),
      launchedBy: 'staff:contract-officer',
    });
    return id;
  };

  // An open round in real time, with the applicant's application and its 申报书; another open round for staff
  // to cancel.
  await ok(stack, 'POST', '/api/rounds', staffToken, { programme: 'teacher_station', year });
  await ok(stack, 'POST', '/api/rounds', staffToken, { programme: 'demo_university', year });
  const roundId = roundWorkflowId('teacher_station', year);
  const app = await ok<{ applicationId: string }>(
    stack,
    'POST',
    `/api/rounds/${roundId}/applications`,
    applicantToken,
    {
      title: '教师企业实践流动站建设方案',
      field: 'next_gen_it',
      summary:
        '依托行业龙头企业建设教师企业实践流动站，组织专业教师定期赴企业跟岗实践，参与技术研发与项目攻关，' +
        '提升专业课教师的技术跟进和技能指导水平，形成校企共享的师资培养机制。',
    },
  );
  const upload = await fetch(
    `${stack.api.url}/api/applications/${app.applicationId}/attachments?kind=application_form&fileName=shenbaoshu.pdf`,
    {
      method: 'POST',
      headers: { Authorization: `Bearer ${applicantToken}`, 'Content-Type': 'application/pdf' },
      body: pdf,
    },
  );
  if (upload.status !== 201) throw new Error(`upload: ${upload.status} ${await upload.text()}`);
  const attachmentId = ((await upload.json()) as { attachmentId: string }).attachmentId;

  // A round in expert review (as the round leaves it after the formal check): the applicant's application with
  // an attachment, its review started as the round starts it.
  const reviewRoundId = await insertOpenedRound('brand_project', `${year}年度产教融合品牌项目申报`, 30);
  // Two applications, and a pool of three experts of their field: each expert reviews both (one assignment to
  // accept and score, the other to decline).
  await db('experts').update({ active: false });
  await db('experts').insert(
    ['xxmu', 'lynu', 'nyist'].map((university, i) => ({
      id: `contract-expert-${i + 1}`,
      name_zh: `评审专家${i + 1}`,
      email: `contract-expert-${i + 1}@pool.ronghe.example`,
      institution_id: university,
      affiliation_kind: 'academic',
      title_zh: '教授',
      fields: ['next_gen_it'],
    })),
  );
  const inReview = await db('applications')
    .insert(
      [1, 2].map((n) => ({
        round_id: reviewRoundId,
        institution_id: CONTRACT_INSTITUTION,
        status: 'formal_passed',
        title_zh: `品牌项目（评审中，${n}）`,
        field_key: 'next_gen_it',
        draft: JSON.stringify({ title: `品牌项目（评审中，${n}）` }),
        received_at: new Date(Date.now() - n * 86_400_000),
      })),
    )
    .returning<{ id: string }[]>('id');
  const review = await stack.client.workflow.start<ReviewWorkflow>('reviewWorkflow', {
    workflowId: reviewWorkflowId(reviewRoundId),
    taskQueue: TEST_TASK_QUEUE,
    args: [{ subjectKind: 'round', subjectId: reviewRoundId, programme: 'brand_project', year }],
  });
  const reviewing = await eventually(async () => {
    const state = await review.query<ReviewState>('getReview');
    return ['reviewing', 'assignment_blocked'].includes(state.stage) ? state : undefined;
  });
  if (reviewing.stage !== 'reviewing') throw new Error(`the review did not start: ${JSON.stringify(reviewing)}`);
  // An expert invited on both applications: one assignment to accept and score, the other to decline.
  const invited = await db('review_assignments')
    .join('reviews', 'reviews.id', 'review_assignments.review_id')
    .where({ 'reviews.subject_id': reviewRoundId })
    .select<{ id: string; expert_id: string; review_id: string; item_id: string }[]>(
      'review_assignments.id',
      'review_assignments.expert_id',
      'review_assignments.review_id',
      'review_assignments.item_id',
    );
  const [assignment, declinableAssignment] =
    invited.map((a) => invited.filter((b) => b.expert_id === a.expert_id)).find((list) => list.length >= 2) ?? [];
  if (!assignment || !declinableAssignment) throw new Error(`no expert reviews two: ${JSON.stringify(invited)}`);
  const reviewed = inReview.find((a) => a.id === assignment.item_id)!;
  const stored = await stack.attachments.save(Readable.from([pdf]), 'application/pdf');
  const reviewedAttachment = await addAttachment(db, {
    applicationId: reviewed.id,
    kind: 'application_form',
    fileName: 'shenbaoshu.pdf',
    contentType: 'application/pdf',
    sizeBytes: stored.size,
    sha256: stored.sha256,
    storageKey: stored.storageKey,
    uploadedBy: `applicant:${CONTRACT_INSTITUTION}`,
  });
  const rubric = (
    await db('reviews').where({ id: assignment.review_id }).first<{ rubric: { key: string }[] }>('rubric')
  ).rubric;
  const expert = await account({
    kind: 'expert',
    expertId: assignment.expert_id,
    email: 'contract-expert@pool.ronghe.example',
    name: '契约测试专家',
  });

  // A round in publicity (as the shortlist leaves it): three shortlisted applications, the first the applicant's.
  const publicityRoundId = await insertOpenedRound('research_project', `${year}年度产教融合研究项目申报`, 60);
  const shortlisted = await db('applications')
    .insert(
      [CONTRACT_INSTITUTION, 'zzu', 'hpu'].map((institution, i) => ({
        round_id: publicityRoundId,
        institution_id: institution,
        status: 'shortlisted',
        title_zh: `研究项目 ${i + 1}`,
        field_key: 'next_gen_it',
        draft: '{}',
        received_at: new Date(Date.now() - (40 - i) * 86_400_000),
      })),
    )
    .returning<{ id: string }[]>('id');
  const [publicityReview] = await db('reviews')
    .insert({
      subject_kind: 'round',
      subject_id: publicityRoundId,
      programme: 'research_project',
      rubric: '[]',
      experts_per_item: 3,
      status: 'completed',
    })
    .returning<{ id: string }[]>('id');
  await db('review_results').insert(
    shortlisted.map((a, i) => ({
      review_id: publicityReview!.id,
      item_kind: 'application',
      item_id: a.id,
      valid_scores: 3,
      score: 90 - i,
      rank: i + 1,
      recommended: true,
      confirmed: true,
    })),
  );
  const publicity = await stack.client.workflow.start<PublicityWorkflow>('publicityWorkflow', {
    workflowId: publicityWorkflowId(publicityRoundId),
    taskQueue: TEST_TASK_QUEUE,
    args: [{ subjectKind: 'round', subjectId: publicityRoundId, programme: 'research_project', year }],
  });
  const period = await eventually(async () => {
    const s = await publicity.query<PublicityMemory>('getPublicity');
    return s.stage === 'open' ? s.current : undefined;
  });
  const publicityId = period.publicityId;
  const [publicityEntry] = await db('publicity_entries')
    .where({ publicity_id: publicityId })
    .orderBy('rank')
    .select<{ id: string }[]>('id');
  const objection = await ok<{ objectionId: string }>(stack, 'POST', `/api/publicity/${publicityId}/objections`, '', {
    entryId: publicityEntry!.id,
    name: '陈立',
    unit: '某研究所',
    phone: '0371-88886666',
    email: 'chen.li@objector.example',
    facts: '该项目的合作企业实践岗位数量与实际不符，请核查。',
  });

  // The applicant's directory entries (as 认定 leaves them, with their member workflows), then an evaluation.
  const today = new Date(Date.now() + 8 * 3_600_000).toISOString().slice(0, 10);
  const entries: string[] = [];
  for (const title of ['示范性产教融合实训基地', '产教融合实践基地（二）', '产教融合实践基地（三）']) {
    const [row] = await db('directory_entries')
      .insert({
        programme: 'practice_base',
        institution_id: CONTRACT_INSTITUTION,
        title_zh: title,
        field_key: 'next_gen_it',
        status: 'active',
        admitted_on: today,
      })
      .returning<{ id: string }[]>('id');
    await stack.client.workflow.start<MemberWorkflow>('memberWorkflow', {
      taskQueue: TEST_TASK_QUEUE,
      workflowId: memberWorkflowId(row!.id),
      args: [{ entryId: row!.id, programme: 'practice_base', institutionId: CONTRACT_INSTITUTION, admittedOn: today }],
    });
    entries.push(row!.id);
  }
  // The first entry's admission, as 认定 records it: a staff decision naming who decided.
  await recordAudit(db, {
    actor: 'staff:contract-officer',
    role: 'staff',
    action: 'directory.admit',
    subjectKind: 'directory_entry',
    subjectId: entries[0]!,
    reason: '经评审、公示，认定为产教融合实践基地',
  });
  const evaluation = await ok<{ evaluationId: string }>(stack, 'POST', '/api/evaluations', staffToken, {
    programme: 'practice_base',
    year,
  });

  // The applicant's research project (as 认定 leaves it), its workflow started as the round does.
  const projects: string[] = [];
  for (const title of ['产教融合研究项目（立项）', '产教融合研究项目（立项，二）']) {
    const [approved] = await db('applications')
      .insert({
        round_id: publicityRoundId,
        institution_id: CONTRACT_INSTITUTION,
        status: 'approved',
        title_zh: title,
        field_key: 'next_gen_it',
      })
      .returning<{ id: string }[]>('id');
    const [project] = await db('projects')
      .insert({
        application_id: approved!.id,
        institution_id: CONTRACT_INSTITUTION,
        title_zh: title,
        status: 'active',
        starts_on: today,
        ends_on: `${Number(today.slice(0, 4)) + 2}${today.slice(4)}`,
        programme: 'research_project',
        field_key: 'next_gen_it',
      })
      .returning<{ id: string }[]>('id');
    await stack.client.workflow.start<ProjectWorkflow>('projectWorkflow', {
      taskQueue: TEST_TASK_QUEUE,
      workflowId: projectWorkflowId(project!.id),
      args: [{ projectId: project!.id, programme: 'research_project', institutionId: CONTRACT_INSTITUTION }],
    });
    projects.push(project!.id);
  }

  // The authorization matrix's other callers; the unassigned expert is of another field, so the review never
  // invites it.
  await db('experts').insert({
    id: 'contract-expert-unassigned',
    name_zh: '未分派专家',
    email: 'contract-expert-unassigned@pool.ronghe.example',
    institution_id: 'zzu',
    affiliation_kind: 'academic',
    title_zh: '教授',
    fields: ['biomedicine'],
  });
  const other = async (a: Parameters<typeof accountAccessToken>[1]) => {
    const { token, accountId } = await accountAccessToken(db, a);
    return { token, accountId };
  };
  const others: ContractIds['others'] = {
    officer: await other({
      kind: 'staff',
      staffRole: 'officer',
      email: 'matrix-officer@ronghe.example',
      name: '矩阵科员',
    }),
    ops: await other({ kind: 'staff', staffRole: 'ops', email: 'matrix-ops@ronghe.example', name: '矩阵运维' }),
    otherUniversity: await other({
      kind: 'institution',
      institutionId: 'zzu',
      email: 'matrix-user@zzu.example',
      name: '矩阵他校用户',
    }),
    college: await other({
      kind: 'institution',
      institutionId: CONTRACT_COLLEGE,
      email: 'matrix-user@henu-cs.example',
      name: '矩阵学院用户',
    }),
    enterprise: await other({
      kind: 'enterprise',
      enterpriseId: 'hanwei',
      email: 'matrix-user@hanwei.example',
      name: '矩阵企业用户',
    }),
    unassignedExpert: await other({
      kind: 'expert',
      expertId: 'contract-expert-unassigned',
      email: 'contract-expert-unassigned@accounts.ronghe.example',
      name: '矩阵未分派专家',
    }),
  };

  // The year's showcase, an event presenting the applicant, and a schedule.
  const showcase = await ok<{ showcaseId: string }>(stack, 'POST', '/api/showcases', staffToken, { year });
  const events: string[] = [];
  for (const days of [60, 90]) {
    const event = await ok<{ eventId: string }>(stack, 'POST', '/api/events', staffToken, {
      kind: 'roadshow',
      title: `${year}年产教融合典型案例路演`,
      startsAt: daysAhead(days),
      place: '郑州国际会展中心 2 号馆',
      presenters: [CONTRACT_INSTITUTION],
      showcaseId: showcase.showcaseId,
    });
    events.push(event.eventId);
  }
  const schedule = await ok<{ scheduleId: string }>(stack, 'POST', '/api/schedules', staffToken, {
    kind: 'round',
    programme: 'demo_college',
    month: 3,
    day: 1,
  });

  // A kept receipt of a public request (as a 503 leaves one), and an email in the outbox.
  const receiptId = 'public/contract-receipt#1';
  await db('update_receipts').insert({
    update_id: receiptId,
    workflow_id: publicityWorkflowId(publicityRoundId),
    update_name: 'fileObjection',
    update_arg: JSON.stringify({
      publicityId,
      name: '李异议',
      email: CONTRACT_RECEIPT_EMAIL,
      receivedAt: new Date().toISOString(),
    }),
    caller: 'public',
    received_at: new Date(),
    status: 'accepted',
    locked_until: new Date(),
    answered_at: new Date(),
  });
  const outbox = await eventually(async () => {
    const row = await db('email_outbox').orderBy('id').first<{ id: number } | undefined>('id');
    return row ? String(row.id) : undefined;
  });

  return {
    accounts: { staff: admin, applicant, expert },
    disablableAccountId,
    invitableAccountId,
    signIn,
    enterpriseId: 'hanwei',
    poolExpertId: 'contract-expert-1',
    roundId,
    applicationId: app.applicationId,
    attachmentId,
    reviewRoundId,
    reviewId: assignment.review_id,
    assignmentId: assignment.id,
    declinableAssignmentId: declinableAssignment.id,
    rubricKeys: rubric.map((c) => c.key),
    reviewedApplicationId: reviewed.id,
    reviewedAttachmentId: reviewedAttachment.id,
    publicityRoundId,
    publicityId,
    publicityEntryId: publicityEntry!.id,
    objectionId: objection.objectionId,
    entryId: entries[0]!,
    revocableEntryId: entries[1]!,
    nominableEntryId: entries[2]!,
    evaluationId: evaluation.evaluationId,
    projectId: projects[0]!,
    terminableProjectId: projects[1]!,
    eventId: events[0]!,
    changeableEventId: events[1]!,
    cancellableRoundId: roundWorkflowId('demo_university', year),
    showcaseId: showcase.showcaseId,
    scheduleId: schedule.scheduleId,
    outboxId: outbox,
    receiptId,
    workflowId: memberWorkflowId(entries[0]!),
    others,
  };
}

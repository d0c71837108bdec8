import ExcelJS from 'exceljs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { WorkflowHandle } from '@temporalio/client';
import { XLSX_CONTENT_TYPE } from '../../services/spreadsheet.js';
import { staffAccessToken } from '../support/accounts.js';
import { seedRoundForReview, startRoundReview } from '../support/review.round.js';
import { startTimeSkippingStack, type TimeSkippingStack } from '../support/time-skipping.js';
import { eventually } from '../support/wait.js';

/**
 * Issue 16, point 2 end to end, on the time-skipping server with real PostgreSQL and maildev: deactivating an
 * expert with open review assignments is refused (409, nothing written) — also through the import, dry run or
 * not — until staff confirm their replacement; then the deactivation and the declines are one transaction, the
 * review workflow closes each assignment as declined and invites another active expert. With Temporal out of
 * reach the deactivation still holds and the declines stay kept (`update_receipts`, pending); this stack runs no
 * outbox sweeper (a worker on the test environment's connection starts none), so the same PUT again delivers
 * them.
 */
const TASK_QUEUE = 'ronghe-expert-deactivation-ts';
const ROUND = 'round-research_project-2027';
const REVIEW = `review-${ROUND}`;

let stack: TimeSkippingStack;
let adminToken: string;
let adminAccountId: string;
let review: WorkflowHandle;

beforeAll(async () => {
  stack = await startTimeSkippingStack({ taskQueue: TASK_QUEUE, api: true, apiTemporalProxy: true });
  ({ token: adminToken, accountId: adminAccountId } = await staffAccessToken(db(), {
    email: 'admin@ronghe.example',
    staffRole: 'administrator',
  }));
  // The token is valid for a day of the wall clock; the API's clock is the test server's, skipped to 2027.
  await db()('access_tokens')
    .where({ account_id: adminAccountId })
    .update({ expires_at: new Date('2030-01-01T00:00:00Z') });
  // Seven experts of the field for two applications of three experts each: every decline has a replacement.
  await seedRoundForReview(db(), {
    roundId: ROUND,
    titleTag: 'ed',
    experts: [1, 2, 3, 4, 5, 6, 7].map((n) => ({ id: `ed${n}`, nameZh: `专家丁${n}` })),
  });
  ({ handle: review } = await startRoundReview(stack, { roundId: ROUND, workflowId: REVIEW, taskQueue: TASK_QUEUE }));
});

afterAll(async () => {
  await review?.terminate('the test is over').catch(() => undefined);
  await stack?.stop();
});

const db = () => stack.database.db;

interface Answer {
  status: number;
  body: Record<string, unknown> & { code?: string; problems?: unknown[] };
}

async function call(
  method: string,
  path: string,
  { body, raw }: { body?: unknown; raw?: Buffer } = {},
): Promise<Answer> {
  const res = await fetch(`${stack.api!.url}${path}`, {
    method,
    headers: {
      authorization: `Bearer ${adminToken}`,
      ...(body === undefined ? {} : { 'content-type': 'application/json' }),
      ...(raw ? { 'content-type': XLSX_CONTENT_TYPE } : {}),
    },
    body: raw ?? (body === undefined ? undefined : JSON.stringify(body)),
  });
  const text = await res.text();
  return { status: res.status, body: text ? (JSON.parse(text) as Answer['body']) : {} };
}

interface AssignmentRow {
  id: string;
  expert_id: string;
  status: string;
  replaces_assignment_id: string | null;
}

const assignments = () =>
  db()('review_assignments as ra')
    .join('reviews as r', 'r.id', 'ra.review_id')
    .where('r.workflow_id', REVIEW)
    .orderBy(['ra.invited_at', 'ra.id'])
    .select<AssignmentRow[]>('ra.id', 'ra.expert_id', 'ra.status', 'ra.replaces_assignment_id');

/** The open (invited or accepted) assignments of `expertId`, ids sorted. */
const openOf = async (expertId: string) =>
  (await assignments())
    .filter((a) => a.expert_id === expertId && ['invited', 'accepted'].includes(a.status))
    .map((a) => a.id)
    .sort();

/** The expert as the API reads it, and the PUT body that deactivates them (the whole record, with a reason). */
async function deactivation(expertId: string, reason: string, replaceOpenAssignments?: boolean) {
  const read = await call('GET', `/api/reference/experts/${expertId}`);
  expect(read.status).toBe(200);
  const { id: _id, affiliationKind: _kind, openAssignments, ...fields } = read.body;
  return {
    openAssignments: openAssignments as number,
    body: {
      ...fields,
      active: false,
      reason,
      ...(replaceOpenAssignments === undefined ? {} : { replaceOpenAssignments }),
    },
  };
}

/** The expert's row and every expert version: what a refused change must leave as it was. */
async function poolSnapshot(): Promise<unknown> {
  return {
    experts: await db()('experts').orderBy('id').select('*'),
    conflicts: await db()('expert_conflicts').orderBy(['expert_id', 'id']).select('*'),
    versions: await db()('reference_versions').where({ kind: 'expert' }).orderBy(['subject_id', 'version']).select('*'),
    receipts: await db()('update_receipts').orderBy('update_id').select('update_id', 'status'),
  };
}

const isActive = async (expertId: string) =>
  (await db()('experts').where({ id: expertId }).first<{ active: boolean }>('active')).active;

/** Waits until each of `ids` is declined and has its replacement; answers the replacements. */
async function replacementsOf(ids: readonly string[]): Promise<AssignmentRow[]> {
  return eventually(
    async () => {
      const rows = await assignments();
      const found = ids.map((id) => rows.find((r) => r.replaces_assignment_id === id));
      return found.every((r) => r !== undefined) ? found : undefined;
    },
    { what: `the replacements of ${ids.join(', ')}` },
  );
}

/**
 * The expert with the most open assignments among the active ones other than `except`, none of them a
 * replacement (a replacement is not replaced again, SPEC "Expert review": its decline would leave no replacement
 * to wait for).
 */
async function busiestActiveExpert(except: readonly string[]): Promise<string> {
  const rows = await db()('review_assignments as ra')
    .join('experts as e', 'e.id', 'ra.expert_id')
    .whereIn('ra.status', ['invited', 'accepted'])
    .where('e.active', true)
    .whereNotIn('e.id', except)
    .whereNotExists(function () {
      this.from('review_assignments as rr')
        .whereRaw('rr.expert_id = e.id')
        .whereIn('rr.status', ['invited', 'accepted'])
        .whereNotNull('rr.replaces_assignment_id');
    })
    .groupBy('e.id')
    .orderByRaw('count(*) desc, e.id')
    .select<{ id: string }[]>('e.id');
  expect(rows.length).toBeGreaterThan(0);
  return rows[0]!.id;
}

let first: string;

describe('deactivating an expert with open assignments', () => {
  it('is refused 409 EXPERT_HAS_OPEN_ASSIGNMENTS, listing them, and writes nothing', async () => {
    first = await busiestActiveExpert([]);
    const open = await openOf(first);
    expect(open.length).toBeGreaterThan(0);
    const { openAssignments, body } = await deactivation(first, '专家退休，不再参加评审');
    expect(openAssignments).toBe(open.length);
    const before = await poolSnapshot();

    const refused = await call('PUT', `/api/reference/experts/${first}`, { body });
    expect([refused.status, refused.body.code]).toEqual([409, 'EXPERT_HAS_OPEN_ASSIGNMENTS']);
    const listed = refused.body.openAssignments as { assignmentId: string; reviewId: string; dueAt: string }[];
    expect(listed.map((a) => a.assignmentId).sort()).toEqual(open);
    expect(refused.body.detail).toContain('replaceOpenAssignments');

    // Also with the confirmation given as false.
    const unconfirmed = await call('PUT', `/api/reference/experts/${first}`, {
      body: { ...body, replaceOpenAssignments: false },
    });
    expect(unconfirmed.body.code).toBe('EXPERT_HAS_OPEN_ASSIGNMENTS');

    expect(await isActive(first)).toBe(true);
    expect(await poolSnapshot()).toEqual(before);
    expect(await openOf(first)).toEqual(open);
  });

  it('is refused in an import of the pool, dry run or not, as the row’s problem, and nothing is written', async () => {
    const res = await fetch(`${stack.api!.url}/api/reference/experts/export.xlsx`, {
      headers: { authorization: `Bearer ${adminToken}` },
    });
    expect(res.status).toBe(200);
    const bytes = await res.arrayBuffer();
    const exported = Buffer.from(bytes);
    // The export as it is imports cleanly and changes nothing (so the refusal below is the status's alone).
    const asIs = await call('POST', '/api/reference/experts/import?dryRun=true', { raw: exported });
    expect(asIs.body).toMatchObject({ valid: true, changed: 0, problems: [] });

    const book = new ExcelJS.Workbook();
    await book.xlsx.load(bytes);
    const sheet = book.worksheets[0]!;
    const columnOf = (header: string) => {
      let found = 0;
      sheet.getRow(1).eachCell((cell, n) => {
        if (cell.text === header) found = n;
      });
      return found;
    };
    const idColumn = columnOf('编号');
    const statusColumn = columnOf('状态');
    let rowNumber = 0;
    sheet.eachRow((row, n) => {
      if (row.getCell(idColumn).text === first) rowNumber = n;
    });
    expect(rowNumber).toBeGreaterThan(1);
    expect(sheet.getRow(rowNumber).getCell(statusColumn).value).toBe('在库');
    sheet.getRow(rowNumber).getCell(statusColumn).value = '停用';
    const file = Buffer.from(await book.xlsx.writeBuffer());

    const open = await openOf(first);
    const problem = {
      row: rowNumber,
      column: '状态',
      message: `专家 ${first} 尚有 ${open.length} 项未完成的评审任务：停用须确认由其他专家替换，导入不能替换，请在专家库中单独停用该专家`,
    };
    const before = await poolSnapshot();
    const dry = await call('POST', '/api/reference/experts/import?dryRun=true', { raw: file });
    expect(dry.status).toBe(200);
    expect(dry.body).toMatchObject({ valid: false, problems: [problem] });
    const real = await call('POST', '/api/reference/experts/import?dryRun=false', { raw: file });
    expect([real.status, real.body.code]).toEqual([422, 'REFERENCE_IMPORT_INVALID']);
    expect(real.body.problems).toEqual([problem]);
    expect(await isActive(first)).toBe(true);
    expect(await poolSnapshot()).toEqual(before);
  });

  it('with staff’s confirmation deactivates the expert, declines each open assignment and the review replaces them', async () => {
    const open = await openOf(first);
    const reason = '专家退休，不再参加评审';
    const { body } = await deactivation(first, reason, true);
    const versionsBefore = await db()('reference_versions').where({ kind: 'expert', subject_id: first });

    const done = await call('PUT', `/api/reference/experts/${first}`, { body });
    expect(done.status).toBe(200);
    expect(done.body.record).toMatchObject({ id: first, active: false, openAssignments: 0 });
    const replacements = done.body.replacements as { assignmentId: string; outcome: string }[];
    expect([...replacements].sort((a, b) => a.assignmentId.localeCompare(b.assignmentId))).toEqual(
      open.map((assignmentId) => ({ assignmentId, outcome: 'declined' })),
    );
    expect(await isActive(first)).toBe(false);

    // A new version with who and why.
    expect(done.body.version).toBe(versionsBefore.length + 1);
    const versions = await call('GET', `/api/reference/experts/${first}/versions`);
    expect((versions.body.items as Record<string, unknown>[])[0]).toMatchObject({
      version: done.body.version,
      reason,
      source: 'api',
      accountId: adminAccountId,
      data: expect.objectContaining({ id: first, active: false }),
    });

    // Each assignment closed as declined (by the staff member, audited), and replaced by another active expert.
    const rows = await assignments();
    for (const id of open) expect(rows.find((r) => r.id === id)!.status).toBe('declined');
    const invited = await replacementsOf(open);
    for (const r of invited) {
      expect(r.expert_id).not.toBe(first);
      expect(await isActive(r.expert_id)).toBe(true);
    }
    const audited = await db()('audit_events')
      .where({ action: 'review.decline' })
      .whereIn('subject_id', open)
      .orderBy('subject_id')
      .select<{ subject_id: string; account_id: string | null; reason: string; role: string }[]>(
        'subject_id',
        'account_id',
        'reason',
        'role',
      );
    expect(audited.map((a) => a.subject_id)).toEqual(open);
    for (const a of audited) {
      expect(a.account_id).toBe(adminAccountId);
      expect(a.role).toBe('staff');
      expect(a.reason).toContain(reason);
    }
    const receipts = await db()('update_receipts')
      .whereIn(
        'update_id',
        open.map((id) => `expert-deactivation/${first}/${id}`),
      )
      .pluck('status');
    expect(receipts).toEqual(open.map(() => 'accepted'));
    expect(await openOf(first)).toEqual([]);
  });

  it('with Temporal out of reach keeps the deactivation and the declines; the same request again delivers them', async () => {
    const second = await busiestActiveExpert([first]);
    const open = await openOf(second);
    expect(open.length).toBeGreaterThan(0);
    const { body } = await deactivation(second, '专家调离本省', true);
    const updateIds = open.map((id) => `expert-deactivation/${second}/${id}`);
    const receiptsOf = () =>
      db()('update_receipts').whereIn('update_id', updateIds).orderBy('update_id').pluck('status');

    stack.apiTemporal!.cut();
    let kept: Answer;
    try {
      kept = await call('PUT', `/api/reference/experts/${second}`, { body });
    } finally {
      stack.apiTemporal!.restore();
    }
    expect(kept.status).toBe(200);
    expect(kept.body.record).toMatchObject({ id: second, active: false });
    expect(typeof kept.body.version).toBe('number');
    const outcomes = (kept.body.replacements as { assignmentId: string; outcome: string }[])
      .map((r) => [r.assignmentId, r.outcome])
      .sort();
    expect(outcomes).toEqual(open.map((id) => [id, 'kept']));
    expect(await isActive(second)).toBe(false);
    expect(await receiptsOf()).toEqual(updateIds.map(() => 'pending'));
    // Nothing reached the review: the assignments are still open.
    expect(await openOf(second)).toEqual(open);

    const again = await call('PUT', `/api/reference/experts/${second}`, { body });
    expect(again.status).toBe(200);
    expect(again.body.version).toBeNull();
    expect(
      (again.body.replacements as { assignmentId: string; outcome: string }[])
        .map((r) => [r.assignmentId, r.outcome])
        .sort(),
    ).toEqual(open.map((id) => [id, 'declined']));
    expect(await receiptsOf()).toEqual(updateIds.map(() => 'accepted'));
    const invited = await replacementsOf(open);
    for (const r of invited) {
      expect([first, second]).not.toContain(r.expert_id);
      expect(await isActive(r.expert_id)).toBe(true);
    }
    expect(await openOf(second)).toEqual([]);
  });
  it('is refused when an assignment is invited between the check and the deactivation’s transaction', async () => {
    const late = 'ed-late';
    const created = await call('POST', '/api/reference/experts', {
      body: {
        id: late,
        nameZh: '专家丁晚',
        titleZh: '正高级工程师',
        enterpriseId: 'newcapec',
        email: 'ed-late@pool.ronghe.example',
        fields: ['next_gen_it'],
        reason: '新入库专家',
      },
    });
    expect(created.status).toBe(201);
    const { body } = await deactivation(late, '专家本人申请退出');
    expect(await openOf(late)).toEqual([]);
    const template = (await assignments())[0]!;
    const item = await db()('review_assignments')
      .where({ id: template.id })
      .first<{ review_id: string; item_kind: string; item_id: string; due_at: Date }>(
        'review_id',
        'item_kind',
        'item_id',
        'due_at',
      );

    // The expert's row is held while the PUT runs: its check finds nothing open, then it waits to write; an
    // assignment invited meanwhile is committed before the deactivation's transaction reads them under lock.
    const holder = await db().transaction();
    let invitedId: string;
    let refused: Answer;
    try {
      await holder('experts').where({ id: late }).forUpdate().select('id');
      const put = call('PUT', `/api/reference/experts/${late}`, { body });
      await eventually(
        async () => {
          const { rows } = await db().raw<{ rows: { n: number }[] }>(
            `select count(*)::int as n from pg_stat_activity
              where datname = current_database() and wait_event_type = 'Lock' and query ilike 'update "experts"%'`,
          );
          return rows[0]!.n > 0 ? true : undefined;
        },
        { what: 'the deactivation waiting for the expert’s row' },
      );
      const [inserted] = await holder('review_assignments')
        .insert({ ...item, expert_id: late, status: 'invited' })
        .returning<{ id: string }[]>('id');
      invitedId = inserted!.id;
      await holder.commit();
      refused = await put;
    } finally {
      if (!holder.isCompleted()) await holder.rollback();
    }
    // Before the check under lock: 200, the expert deactivated and the new assignment declined unconfirmed.
    expect([refused.status, refused.body.code]).toEqual([409, 'EXPERT_HAS_OPEN_ASSIGNMENTS']);
    expect((refused.body.openAssignments as { assignmentId: string }[]).map((a) => a.assignmentId)).toEqual([
      invitedId,
    ]);
    expect(await isActive(late)).toBe(true);
    expect(await openOf(late)).toEqual([invitedId]);
    expect(await db()('reference_versions').where({ kind: 'expert', subject_id: late }).pluck('version')).toEqual([1]);
    expect(await db()('update_receipts').whereLike('update_id', `expert-deactivation/${late}/%`)).toEqual([]);
  });
});

describe('a reference change that would break 回避 on an open assignment (issue 16, point 5)', () => {
  /** An active expert's first open assignment, with the applicant institution of its application. */
  async function openAssignmentOfActiveExpert(): Promise<{ id: string; expertId: string; institutionId: string }> {
    const row = await db()('review_assignments as ra')
      .join('reviews as r', 'r.id', 'ra.review_id')
      .join('experts as e', 'e.id', 'ra.expert_id')
      .joinRaw('join applications as a on a.id::text = ra.item_id')
      .where({ 'r.workflow_id': REVIEW, 'e.active': true, 'ra.wave': 0 })
      .whereIn('ra.status', ['invited', 'accepted'])
      .orderBy('ra.id')
      .first<{ id: string; expert_id: string; institution_id: string }>('ra.id', 'ra.expert_id', 'a.institution_id');
    expect(row, 'an active expert with an open assignment').toBeDefined();
    return { id: row.id, expertId: row.expert_id, institutionId: row.institution_id };
  }

  it('a declared conflict with the applicant is refused 409 AVOIDANCE_BROKEN; confirmed, the assignment is declined', async () => {
    const open = await openAssignmentOfActiveExpert();
    const read = await call('GET', `/api/reference/experts/${open.expertId}`);
    const { id: _id, affiliationKind: _kind, openAssignments: _open, ...fields } = read.body;
    const body = { ...fields, conflictInstitutionIds: [open.institutionId], reason: '专家申报与申报单位存在合作' };
    const versionsBefore = await db()('reference_versions').where({ kind: 'expert', subject_id: open.expertId });

    const refused = await call('PUT', `/api/reference/experts/${open.expertId}`, { body });
    expect([refused.status, refused.body.code]).toEqual([409, 'AVOIDANCE_BROKEN']);
    expect(refused.body.openAssignments).toEqual(
      expect.arrayContaining([
        expect.objectContaining({ assignmentId: open.id, reason: 'declared_conflict', replaceable: true }),
      ]),
    );
    expect(await db()('reference_versions').where({ kind: 'expert', subject_id: open.expertId })).toEqual(
      versionsBefore,
    );
    expect((await assignments()).find((a) => a.id === open.id)!.status).not.toBe('declined');

    const confirmed = await call('PUT', `/api/reference/experts/${open.expertId}`, {
      body: { ...body, replaceOpenAssignments: true },
    });
    expect(confirmed.status, JSON.stringify(confirmed.body)).toBe(200);
    expect(confirmed.body.replacements).toEqual(
      expect.arrayContaining([{ assignmentId: open.id, outcome: 'declined' }]),
    );
    expect((await assignments()).find((a) => a.id === open.id)!.status).toBe('declined');
    expect(
      await db()('update_receipts')
        .where({ update_id: `avoidance/${open.expertId}/${open.id}` })
        .first(),
    ).toMatchObject({ status: 'accepted' });
  });

  it('a partnership between the applicant and the experts’ enterprise is refused, and a dry-run import lists what it would break', async () => {
    const open = await openAssignmentOfActiveExpert();
    const refused = await call('POST', '/api/reference/partnerships', {
      body: { institutionId: open.institutionId, enterpriseId: 'newcapec', reason: '签订合作协议' },
    });
    expect([refused.status, refused.body.code]).toEqual([409, 'AVOIDANCE_BROKEN']);
    expect(refused.body.openAssignments).toEqual(
      expect.arrayContaining([expect.objectContaining({ assignmentId: open.id, reason: 'partner_enterprise' })]),
    );
    expect(
      await db()('institution_partners').where({ institution_id: open.institutionId, enterprise_id: 'newcapec' }),
    ).toEqual([]);

    const book = new ExcelJS.Workbook();
    const sheet = book.addWorksheet('校企合作关系');
    sheet.addRow(['单位编号', '企业编号']);
    sheet.addRow([open.institutionId, 'newcapec']);
    // A bad row beside it: the dry run tells the problem and, all the same, what the sound row would break.
    sheet.addRow([open.institutionId, 'no-such-enterprise']);
    const dry = await call('POST', '/api/reference/partnerships/import', {
      raw: Buffer.from(await book.xlsx.writeBuffer()),
    });
    expect(dry.status).toBe(200);
    expect(dry.body.valid).toBe(false);
    expect(dry.body.problems).toHaveLength(1);
    expect(dry.body.breaksAvoidance).toEqual(
      expect.arrayContaining([expect.objectContaining({ assignmentId: open.id, reason: 'partner_enterprise' })]),
    );
    expect(
      await db()('institution_partners').where({ institution_id: open.institutionId, enterprise_id: 'newcapec' }),
    ).toEqual([]);
  });
});

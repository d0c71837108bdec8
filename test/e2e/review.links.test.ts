import { Readable } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { disableAccount, enableAccount } from '../../db/repositories/accounts.js';
import { addAttachment } from '../../db/repositories/round.applications.js';
import { hashPassword } from '../../services/accounts.js';
import { enterNationalDay2027, seedRoundForReview, startRoundReview } from '../support/review.round.js';
import { pdf } from '../support/round.call.js';
import { startTimeSkippingStack, type TimeSkippingStack } from '../support/time-skipping.js';
import { eventually } from '../support/wait.js';

/**
 * Issue 15, point 4: experts act from the email. A round's review invitation carries a link; following it signs
 * the browser in as that expert for that email's assignments only — the session reads the material and submits
 * scores through the documented API with its CSRF token, and is refused (403 ASSIGNMENT_LINK_ONLY) on another
 * assignment, on the expert's own list and on staff routes. A reminder carries a link to the same assignment.
 * Once the link has expired (the API's clock, the time-skipping server's), it asks for the password and goes on
 * to the assignments. Real Temporal (time-skipping), PostgreSQL, maildev and the API over HTTP with a cookie jar.
 */
const TASK_QUEUE = 'ronghe-review-links';
const ROUND = 'round-research_project-2027';
const REVIEW = `review-${ROUND}`;
const PASSWORD = 'zhuanjia-mima-2027-qiuzhen';
const rubricScores = { significance: 90, approach: 88, industry_fit: 86, team: 84 };

let stack: TimeSkippingStack;

beforeAll(async () => {
  stack = await startTimeSkippingStack({ taskQueue: TASK_QUEUE, api: true });
});

afterAll(async () => {
  await stack?.stop();
});

/** A browser: one cookie jar, redirects not followed (the test reads them). */
class Browser {
  private readonly cookies = new Map<string, string>();

  async fetch(
    path: string,
    init: { method?: string; body?: string; headers?: Record<string, string> } = {},
  ): Promise<{ status: number; text: string; location: string | null; json: () => unknown }> {
    const url = path.startsWith('http') ? path : `${stack.api!.url}${path}`;
    const res = await fetch(url, {
      method: init.method ?? 'GET',
      redirect: 'manual',
      headers: {
        ...(this.cookies.size ? { Cookie: [...this.cookies].map(([k, v]) => `${k}=${v}`).join('; ') } : {}),
        ...init.headers,
      },
      ...(init.body !== undefined ? { body: init.body } : {}),
    });
    for (const c of res.headers.getSetCookie()) {
      const [pair] = c.split(';');
      const at = pair!.indexOf('=');
      this.cookies.set(pair!.slice(0, at), pair!.slice(at + 1));
    }
    const text = await res.text();
    return {
      status: res.status,
      text,
      location: res.headers.get('location'),
      json: (): unknown => JSON.parse(text) as unknown,
    };
  }

  /** A JSON call with the session's CSRF token (GET /api/session), as the README documents. */
  async api(method: string, path: string, body?: unknown, { csrf = true } = {}) {
    const token = csrf ? ((await this.fetch('/api/session')).json() as { csrfToken: string }).csrfToken : undefined;
    return this.fetch(path, {
      method,
      headers: {
        ...(token ? { 'X-CSRF-Token': token } : {}),
        ...(body !== undefined ? { 'Content-Type': 'application/json' } : {}),
      },
      ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
    });
  }
}

/** The assignment link in an email's text. */
function linkIn(text: string): string {
  const match = /https?:\/\/\S+\/review\/assignment\/[A-Za-z0-9_-]+/.exec(text);
  expect(match, text).not.toBeNull();
  return match![0];
}

interface Row {
  id: string;
  item_id: string;
  expert_id: string;
  status: string;
}

const rows = () =>
  stack.database.db('review_assignments').orderBy('id').select<Row[]>('id', 'item_id', 'expert_id', 'status');

describe('experts act from the email (issue 15, point 4)', () => {
  it('signs in from the invitation for its assignment only, reminds with a link to it, and asks for the password once the link expired', async () => {
    const db = stack.database.db;
    await enterNationalDay2027(db);
    // Six experts for two applications × three: each expert holds one assignment.
    const experts = [1, 2, 3, 4, 5, 6].map((n) => `l${n}`);
    await seedRoundForReview(db, {
      roundId: ROUND,
      titleTag: 'L',
      experts: experts.map((id, n) => ({ id, nameZh: `链接专家${n + 1}` })),
    });
    // Their accounts (the password is what an expired link asks for); l6 has none.
    const passwordHash = await hashPassword(PASSWORD);
    await db('accounts').insert(
      experts.slice(0, 5).map((id, n) => ({
        kind: 'expert',
        expert_id: id,
        email: `${id}@pool.ronghe.example`,
        name: `链接专家${n + 1}`,
        password_hash: passwordHash,
        created_by: 'staff:test',
      })),
    );

    const { handle } = await startRoundReview(stack, { roundId: ROUND, workflowId: REVIEW, taskQueue: TASK_QUEUE });
    const assignments = await rows();
    expect(assignments).toHaveLength(6);
    const invitations = await eventually(async () => {
      const mails = (await stack.mailbox.list()).filter((m) => m.purpose === 'review_invitation');
      return mails.length === 6 ? mails : undefined;
    });

    // l1's invitation: its link, under the API's address.
    const mine = assignments.find((a) => a.expert_id === 'l1')!;
    const other = assignments.find((a) => a.expert_id !== 'l1')!;
    const invitation = invitations.find((m) => m.to === 'l1@pool.ronghe.example')!;
    expect(invitation.text).not.toContain('请于 2027年10月12日 24:00 前登录 ronghe 系统');
    const link = linkIn(invitation.text);
    expect(link.startsWith(`${stack.api!.url}/review/assignment/`)).toBe(true);
    // One email, one link: the retried activities recorded no second one.
    expect(await db('assignment_links').where({ expert_id: 'l1' }).pluck('email_key')).toEqual([
      `${REVIEW}/review_invitation/l1`,
    ]);

    // Following it signs the browser in for that assignment.
    const expert = new Browser();
    const opened = await expert.fetch(link);
    expect(opened.status).toBe(303);
    expect(opened.location).toBe('/review/assignments');
    const list = await expert.fetch('/review/assignments');
    expect(list.status).toBe(200);
    expect(list.text).toContain(mine.id);
    expect(list.text).not.toContain(other.id);

    // The documented API, with the session's CSRF token: the material, accept, scores.
    const material = await expert.api('GET', `/api/assignments/${mine.id}`, undefined, { csrf: false });
    expect(material.status).toBe(200);
    // The 申报书 of that assignment's application downloads in the same session; another application's does not.
    const attach = async (applicationId: string) => {
      const stored = await stack.attachments.save(Readable.from([pdf]), 'application/pdf');
      const row = await addAttachment(db, {
        applicationId,
        kind: 'application_form',
        fileName: '申报书.pdf',
        contentType: 'application/pdf',
        sizeBytes: stored.size,
        sha256: stored.sha256,
        storageKey: stored.storageKey,
        uploadedBy: 'applicant:test',
      });
      return `/api/applications/${applicationId}/attachments/${row.id}`;
    };
    const download = await expert.api('GET', await attach(mine.item_id), undefined, { csrf: false });
    expect([download.status, download.text]).toEqual([200, pdf.toString()]);
    const notMine = assignments.find((a) => a.item_id !== mine.item_id)!;
    const elsewhere = await expert.api('GET', await attach(notMine.item_id), undefined, { csrf: false });
    expect(elsewhere.status).toBe(403);
    expect((await expert.api('POST', `/api/assignments/${mine.id}/accept`)).status).toBe(200);
    const withoutCsrf = await expert.api(
      'PUT',
      `/api/assignments/${mine.id}/review`,
      { scores: rubricScores },
      {
        csrf: false,
      },
    );
    expect(withoutCsrf.status).toBe(403);
    expect((withoutCsrf.json() as { code: string }).code).toBe('CSRF_TOKEN_INVALID');
    const saved = await expert.api('PUT', `/api/assignments/${mine.id}/review`, { scores: rubricScores });
    expect(saved.status).toBe(200);
    expect((saved.json() as { status: string }).status).toBe('submitted');

    // The same session on another assignment, on the expert's list, on staff routes, minting a token: refused.
    for (const [method, path, body] of [
      ['GET', `/api/assignments/${other.id}`, undefined],
      ['PUT', `/api/assignments/${other.id}/review`, { scores: rubricScores }],
      ['GET', '/api/me/assignments', undefined],
      ['GET', '/api/accounts', undefined],
      ['GET', `/api/rounds/${ROUND}`, undefined],
      ['POST', '/api/access-tokens', { name: '脚本', expiresInDays: 30 }],
    ] as const) {
      const refused = await expert.api(method, path, body);
      expect(refused.status, `${method} ${path}`).toBe(403);
      const problem = refused.json() as { code: string; title: string };
      expect(problem.code, `${method} ${path}`).toBe('ASSIGNMENT_LINK_ONLY');
      expect(problem.title).toContain('以电子邮箱和密码登录');
    }
    const audit = await db('audit_events').where({ action: 'review.link_used' }).select<{ actor: string }[]>('actor');
    expect(audit).toHaveLength(1);
    expect(audit[0]!.actor).toMatch(/^expert:l1\|account:/);

    // An expert without an account: the link says whom to contact, audited.
    const l6 = invitations.find((m) => m.to === 'l6@pool.ronghe.example')!;
    const noAccount = await new Browser().fetch(linkIn(l6.text));
    expect(noAccount.status).toBe(403);
    expect(noAccount.text).toContain('尚无 ronghe 系统账号');
    expect(noAccount.text).toContain('王老师');

    // l3's account disabled and enabled again: its emailed link ended with the account and stays ended (as its
    // sessions and tokens do); signing in with the password still works.
    const l3 = await db('accounts').where({ expert_id: 'l3' }).first<{ id: string }>('id');
    await disableAccount(db, l3.id, { actor: 'staff:test', reason: '测试停用', at: new Date() });
    await enableAccount(db, l3.id);
    const l3Invitation = invitations.find((m) => m.to === 'l3@pool.ronghe.example')!;
    const revived = await new Browser().fetch(linkIn(l3Invitation.text));
    expect(revived.status).toBe(410);
    expect(revived.text).toContain('已被撤销');

    // The first reminder (10-08 09:00) reaches the experts still open; l2's carries a link to the same assignment.
    await stack.skipTo('2027-10-08T09:01:00+08:00');
    const reminder = await eventually(async () =>
      (await stack.mailbox.list()).find((m) => m.purpose === 'review_reminder' && m.to === 'l2@pool.ronghe.example'),
    );
    const l2 = assignments.find((a) => a.expert_id === 'l2')!;
    const reminded = new Browser();
    expect((await reminded.fetch(linkIn(reminder.text))).status).toBe(303);
    const remindedList = await reminded.fetch('/review/assignments');
    expect(remindedList.text).toContain(l2.id);
    expect((await reminded.api('GET', `/api/assignments/${l2.id}`, undefined, { csrf: false })).status).toBe(200);

    // l2 never scored: past the due time (10-12 24:00) and its grace window the assignment timed out; a session
    // opened from the reminder's link (still valid) no longer reads its material (issue 15, point 5): a 409.
    await stack.skipTo('2027-10-13T00:11:00+08:00');
    await eventually(async () =>
      (await rows()).find((a) => a.id === l2.id)!.status === 'timed_out' ? true : undefined,
    );
    const afterDue = new Browser();
    expect((await afterDue.fetch(linkIn(reminder.text))).status).toBe(303);
    const closed = await afterDue.api('GET', `/api/assignments/${l2.id}`, undefined, { csrf: false });
    expect(closed.status).toBe(409);
    expect((closed.json() as { code: string }).code).toBe('ASSIGNMENT_CLOSED');
    expect((closed.json() as { detail: string }).detail).toContain('不能再查看评审材料');
    expect(closed.text).not.toContain('研究项目 L');

    // Past the due time (10-12 24:00) plus 72 hours the link has expired: it asks for the password.
    await stack.skipTo('2027-10-16T00:01:00+08:00');
    expect((await expert.fetch('/api/session')).status).toBe(401);
    const late = new Browser();
    const expired = await late.fetch(link);
    expect(expired.status).toBe(410);
    expect(expired.text).toContain('已过期');
    expect(expired.text).toContain('name="password"');
    const csrf = /name="_csrf" value="([^"]+)"/.exec(expired.text)![1]!;
    const form = (password: string) =>
      late.fetch(link, {
        method: 'POST',
        headers: { 'Content-Type': 'application/x-www-form-urlencoded' },
        body: new URLSearchParams({ _csrf: csrf, email: 'l1@pool.ronghe.example', password }).toString(),
      });
    expect((await form('not-the-password-at-all')).status).toBe(401);
    const signedIn = await form(PASSWORD);
    expect(signedIn.status).toBe(303);
    expect(signedIn.location).toBe('/review/assignments');
    const full = await late.fetch('/review/assignments');
    expect(full.status).toBe(200);
    expect(full.text).toContain(mine.id);
    // Signed in with the password, the session is the expert's, no longer limited to one link.
    expect((await late.api('GET', '/api/me/assignments', undefined, { csrf: false })).status).toBe(200);
    expect(await db('audit_events').where({ action: 'review.link_refused' }).pluck('reason')).toEqual(
      expect.arrayContaining(['链接已过期，已请求输入密码']),
    );

    await handle.terminate('the test is over');
  });
});

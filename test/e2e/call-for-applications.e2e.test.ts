import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { collegeEmail, universities, universityEmail } from '../../db/seeds/reference-data.js';
import { recipientPurposePairs } from '../support/mailbox.js';
import { startTestStack, type TestStack } from '../support/stack.js';
import { eventually } from '../support/wait.js';

/**
 * Procedure 1 end to end on the dev server with compressed time (real Temporal, PostgreSQL, maildev):
 * 30 applications from 12 institutions, one over its limit, one withdrawn, one resubmitted, two failing the
 * formal check. The call's 20 working days pass in about 25 seconds.
 */
const ROUND = 'round-brand_project-2027';
const SCALE = 100_000;

let stack: TestStack;

beforeAll(async () => {
  stack = await startTestStack();
});

afterAll(async () => {
  await stack?.stop();
});

/** How many applications each institution hands in (12 institutions, 30 applications). */
const plan: Record<string, number> = {
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

function contactOf(id: string): string {
  const [university, suffix] = id.split('-');
  return suffix ? collegeEmail(university!, id.slice(university!.length + 1)) : universityEmail(id);
}

function draft(institution: string, n: number) {
  return {
    title: `${institution} 产教融合品牌项目 ${n}`,
    field: 'next_gen_it',
    summary:
      '面向新一代信息技术产业需求，校企共建课程体系与实践平台，联合培养应用型人才，建设期内形成可复制推广的产教融合品牌，并在省内同类高校推广应用。',
    partnerEnterpriseIds: ['xfusion'],
  };
}

const pdf = Buffer.from('%PDF-1.7\n1 0 obj <<>> endobj\n%%EOF\n');

describe('call for applications, end to end with compressed time', () => {
  it('takes 30 applications from 12 institutions through submission, a limit, a withdrawal, a resubmission and the formal check; mails exactly the expected list and audits every decision', async () => {
    const staff = await stack.token({ role: 'staff', id: 'officer-li' });
    const launchedAt = Date.now();
    const launch = await stack.request<{ roundId: string }>('POST', '/api/rounds', {
      token: staff,
      body: {
        programme: 'brand_project',
        year: 2027,
        timeScale: SCALE,
        rules: { limits: { perApplicant: 3, perUniversity: 6 } },
      },
    });
    expect(launch.status).toBe(201);

    const tokens = Object.fromEntries(
      await Promise.all(
        Object.keys(plan).map(async (id) => [id, await stack.token({ role: 'applicant', id })] as const),
      ),
    );
    const ids: Record<string, string[]> = {};
    await Promise.all(
      Object.entries(plan).map(async ([institution, count]) => {
        ids[institution] = [];
        for (let n = 1; n <= count + (institution === 'henu' ? 1 : 0); n++) {
          const body = draft(institution, n);
          // Two will fail the formal check: one without its 申报书, one with a summary too short.
          if (institution === 'ncwu-elec' && n === 3) body.summary = '简介过短';
          const created = await stack.request<{ applicationId: string }>('POST', `/api/rounds/${ROUND}/applications`, {
            token: tokens[institution],
            body,
          });
          expect(created.status, JSON.stringify(created.body)).toBe(201);
          const appId = created.body.applicationId;
          if (!(institution === 'henau' && n === 2)) {
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

    // The call opens at once; submissions are judged by the workflow against its deadline.
    await eventually(async () => {
      const r = await stack.request<{ workflow: { stage: string } }>('GET', `/api/rounds/${ROUND}`, { token: staff });
      return r.body.workflow?.stage === 'call_open' ? true : undefined;
    });
    const submit = (institution: string, appId: string) =>
      stack.request<{ version: number; warnings: string[]; code?: string; title?: string }>(
        'POST',
        `/api/applications/${appId}/submit`,
        {
          token: tokens[institution],
        },
      );
    for (const [institution, count] of Object.entries(plan)) {
      for (let n = 0; n < count; n++) {
        const res = await submit(institution, ids[institution]![n]!);
        expect(res.status, JSON.stringify(res.body)).toBe(200);
      }
    }
    const over = await submit('henu', ids.henu![3]!);
    expect(over.status).toBe(409);
    expect(over.contentType).toContain('application/problem+json');
    expect(over.body).toMatchObject({ code: 'LIMIT_EXCEEDED', title: '超出限报数量' });

    // A resubmission replaces the earlier version and keeps it; a withdrawal needs no reason but may give one.
    const edited = await stack.request('PUT', `/api/applications/${ids.zzu![0]}`, {
      token: tokens.zzu,
      body: { ...draft('zzu', 1), title: 'zzu 产教融合品牌项目 1（修订）' },
    });
    expect(edited.status).toBe(200);
    const resubmitted = await submit('zzu', ids.zzu![0]!);
    expect(resubmitted.body.version).toBe(2);
    const withdrawn = await stack.request('POST', `/api/applications/${ids.htu![1]}/withdraw`, {
      token: tokens.htu,
      body: { reason: '与学校另一项目内容重复' },
    });
    expect(withdrawn.status).toBe(200);
    const submissionsDoneAt = Date.now();

    const round = await stack.request<{ workflow: { upcomingReminders: { at: string }[] } }>(
      'GET',
      `/api/rounds/${ROUND}`,
      { token: staff },
    );
    const firstReminder = Date.parse(round.body.workflow.upcomingReminders[0]!.at);
    // Every submission was in before the first reminder fell due (else the expected list below would not hold).
    expect(submissionsDoneAt).toBeLessThan(launchedAt + (firstReminder - launchedAt) / SCALE);

    const final = await stack.client.workflow.getHandle(ROUND).result();
    expect(final).toMatchObject({ stage: 'awaiting_review', formalCheck: { passed: 27, failed: 2 } });

    const eligible = universities.flatMap((u) => [
      universityEmail(u.id),
      ...u.colleges.map(([s]) => collegeEmail(u.id, s)),
    ]);
    const submitted = new Set(Object.keys(plan).map(contactOf));
    const expected = [
      ...eligible.map((to) => ({ to, purpose: 'call_notice' })),
      ...[1, 2, 3].flatMap(() =>
        eligible.filter((to) => !submitted.has(to)).map((to) => ({ to, purpose: 'call_reminder' })),
      ),
      { to: contactOf('henau'), purpose: 'formal_check_failed' },
      { to: contactOf('ncwu-elec'), purpose: 'formal_check_failed' },
    ];
    const emails = await stack.mailbox.waitForCount(expected.length, { settleMs: 1_000 });
    expect(recipientPurposePairs(emails)).toEqual(recipientPurposePairs(expected));
    const failure = emails.find((e) => e.purpose === 'formal_check_failed' && e.to === contactOf('henau'))!;
    expect(failure.text).toContain('缺少附件：申报书');

    const apps = await stack.database
      .db('applications')
      .where({ round_id: ROUND })
      .select<{ id: string; status: string; formal_check_reason: string | null }[]>(
        'id',
        'status',
        'formal_check_reason',
      );
    const byStatus = (s: string) => apps.filter((a) => a.status === s).length;
    expect([byStatus('formal_passed'), byStatus('formal_failed'), byStatus('withdrawn'), byStatus('draft')]).toEqual([
      27, 2, 1, 1,
    ]);
    expect(apps.find((a) => a.id === ids['ncwu-elec']![2])!.formal_check_reason).toContain('简介');
    const versions = await stack.request<{ versions: { version: number }[] }>(
      'GET',
      `/api/applications/${ids.zzu![0]}`,
      { token: tokens.zzu },
    );
    expect(versions.body.versions.map((v) => v.version)).toEqual([1, 2]);

    // Every decision the test made (and the system's formal check) has exactly one audit row.
    const audit = await stack.database
      .db('audit_events')
      .whereNot({ action: 'application.receipt' })
      .select<{ actor: string; role: string; action: string; subject_id: string; reason: string | null }[]>(
        'actor',
        'role',
        'action',
        'subject_id',
        'reason',
      );
    const rowsFor = (action: string, subject: string) =>
      audit.filter((a) => a.action === action && a.subject_id === subject);
    expect(rowsFor('round.launch', ROUND)).toEqual([
      { actor: 'staff:officer-li', role: 'staff', action: 'round.launch', subject_id: ROUND, reason: null },
    ]);
    for (const [institution, count] of Object.entries(plan)) {
      for (const appId of ids[institution]!.slice(0, count)) {
        expect(rowsFor('application.submit', appId)).toEqual([
          {
            actor: `applicant:${institution}`,
            role: 'applicant',
            action: 'application.submit',
            subject_id: appId,
            reason: null,
          },
        ]);
      }
    }
    expect(rowsFor('application.submit_refused', ids.henu![3]!)).toHaveLength(1);
    expect(rowsFor('application.submit_refused', ids.henu![3]!)[0]!.reason).toContain('限报');
    expect(rowsFor('application.resubmit', ids.zzu![0]!)).toHaveLength(1);
    expect(rowsFor('application.withdraw', ids.htu![1]!)).toEqual([
      {
        actor: 'applicant:htu',
        role: 'applicant',
        action: 'application.withdraw',
        subject_id: ids.htu![1],
        reason: '与学校另一项目内容重复',
      },
    ]);
    const checks = audit.filter((a) => a.action.startsWith('application.formal_check'));
    expect(checks).toHaveLength(29);
    expect(checks.every((c) => c.role === 'system' && c.actor === 'system:formal-check')).toBe(true);
    expect(checks.filter((c) => c.action === 'application.formal_check_failed').every((c) => c.reason)).toBe(true);

    const progress = await stack.request<{
      applications: Record<string, number>;
      emails: Record<string, { sent: number }>;
    }>('GET', `/api/rounds/${ROUND}/progress`, { token: staff });
    expect(progress.body.applications).toEqual({ formal_passed: 27, formal_failed: 2, withdrawn: 1, draft: 1 });
    expect(progress.body.emails.call_reminder!.sent).toBe(expected.filter((e) => e.purpose === 'call_reminder').length);
  });
});

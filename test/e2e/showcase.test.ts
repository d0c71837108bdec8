import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { chromium, type Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { insertRound } from '../../db/repositories/round.js';
import { collegeEmail, collegeId } from '../../db/seeds/reference-data.js';
import { programmeCatalogue } from '../../domain/programmes.js';
import { chromiumArgs, chromiumPath, hasChromium, skipBrowserTests } from '../support/browser.js';
import { readXlsx } from '../support/openpyxl.js';
import { recordHistories } from '../support/record-histories.js';
import { scoreAssignedReviews, uniformScores } from '../support/review.scores.js';
import { startTestStack, type TestStack } from '../support/stack.js';
import { eventually } from '../support/wait.js';

/**
 * Procedure 6 end to end on the dev server with real PostgreSQL and maildev, in compressed time: a showcase
 * year with nominations from 8 institutions (a third nomination refused), expert review, publicity, and the
 * published showcase — its public page in real Chromium, its XLSX export read back by Python's openpyxl.
 */
let stack: TestStack;
let staff: string;
let browser: Browser | undefined;
const SHOWCASE = 'showcase-2027';

beforeAll(async () => {
  stack = await startTestStack();
  staff = await stack.token({ role: 'staff', id: 'officer-li' });
  if (hasChromium || process.env.CI) {
    browser = await chromium.launch({ executablePath: chromiumPath, args: chromiumArgs });
  }
});

afterAll(async () => {
  await browser?.close();
  await stack?.stop();
});

type Problem = { code: string; title: string; detail?: string };
const db = () => stack.database.db;

interface Source {
  institutionId: string;
  email: string;
  kind: 'directory_entry' | 'project';
  id: string;
  programme: string;
  title: string;
  score: number;
}

/** The sources the test nominates, best score first: 6 directory members (one institution has two) and 2 projects. */
const plan: [string, string, 'directory_entry' | 'project', string, string, number][] = [
  ['zzu', 'cs', 'directory_entry', 'demo_college', 'next_gen_it', 95],
  ['henu', 'cs', 'directory_entry', 'demo_college', 'next_gen_it', 92],
  ['hpu', 'energy', 'directory_entry', 'practice_base', 'new_energy', 90],
  ['haust', 'vehicle', 'directory_entry', 'brand_project', 'nev_connected', 88],
  ['hpu', 'mat', 'project', 'research_project', 'new_materials', 85],
  ['zzu', 'cs', 'directory_entry', 'brand_project', 'next_gen_it', 80],
  ['zzu', 'mech', 'directory_entry', 'teacher_station', 'high_end_equipment', 75],
  ['henu', 'pharm', 'directory_entry', 'demo_college', 'biomedicine', 70],
  ['haust', 'agri', 'project', 'research_project', 'modern_agriculture', 65],
];
const QUOTA = 6;
const SILENT = collegeId('haust', 'mat');

async function createSources(): Promise<Source[]> {
  await insertRound(db(), {
    id: 'round-research_project-2026',
    programme: 'research_project',
    year: 2026,
    titleZh: '2026年度产教融合研究项目申报',
    opensAt: new Date('2026-03-01T09:00:00+08:00'),
    launchedBy: 'staff:officer-li',
  });
  // One more member that never nominates: it is called, and reminded.
  await db()('directory_entries').insert({
    programme: 'demo_college',
    institution_id: SILENT,
    title_zh: `${SILENT} demo_college 从未推荐的成员`,
    field_key: 'new_materials',
    status: 'active',
    admitted_on: '2026-06-30',
  });
  const sources: Source[] = [];
  for (const [university, college, kind, programme, field, score] of plan) {
    const institutionId = collegeId(university, college);
    const title = `${institutionId} ${programme} 产教融合案例（${score}）`;
    let id: string;
    if (kind === 'directory_entry') {
      const [row] = await db()('directory_entries')
        .insert({
          programme,
          institution_id: institutionId,
          title_zh: title,
          field_key: field,
          status: 'active',
          admitted_on: '2026-06-30',
        })
        .returning<{ id: string }[]>('id');
      id = row!.id;
    } else {
      const [app] = await db()('applications')
        .insert({
          round_id: 'round-research_project-2026',
          institution_id: institutionId,
          status: 'approved',
          title_zh: title,
          field_key: field,
        })
        .returning<{ id: string }[]>('id');
      const [row] = await db()('projects')
        .insert({
          application_id: app!.id,
          institution_id: institutionId,
          title_zh: title,
          status: 'active',
          starts_on: '2026-09-01',
          ends_on: '2028-09-01',
          programme,
          field_key: field,
        })
        .returning<{ id: string }[]>('id');
      id = row!.id;
    }
    sources.push({ institutionId, email: collegeEmail(university, college), kind, id, programme, title, score });
  }
  return sources;
}

describe('a showcase year, end to end with compressed durations (dev server)', () => {
  let sources: Source[];

  it(
    'nominations from 8 institutions (a third refused), expert review, publicity, a published showcase; every email once, every decision audited',
    { timeout: 300_000 },
    async () => {
      sources = await createSources();
      const launched = await stack.request<{ showcaseId: string }>('POST', '/api/showcases', {
        token: staff,
        body: { year: 2027, quota: QUOTA, timeScale: 86_400 },
      });
      expect(launched.status, JSON.stringify(launched.body)).toBe(201);
      expect(launched.body.showcaseId).toBe(SHOWCASE);
      const again = await stack.request<Problem>('POST', '/api/showcases', { token: staff, body: { year: 2027 } });
      expect(again.body.code).toBe('SHOWCASE_EXISTS');
      await eventually(async () => {
        const r = await stack.request<{ status: string }>('GET', `/api/showcases/${SHOWCASE}`);
        return r.body.status === 'nominations_open' ? true : undefined;
      });

      const nominate = async (s: Source) =>
        stack.request<Problem & { caseId: string; nominated: number }>(
          'POST',
          `/api/showcases/${SHOWCASE}/nominations`,
          {
            token: await stack.token({ role: 'applicant', id: s.institutionId }),
            body: {
              sourceKind: s.kind,
              sourceId: s.id,
              title: s.title,
              summary: `${s.title}：校企共建产业学院，联合制定培养方案，企业导师全过程参与，毕业生就业对口率显著提升。`,
            },
          },
        );
      const caseOf = new Map<string, Source>();
      for (const s of sources) {
        const r = await nominate(s);
        expect(r.status, JSON.stringify(r.body)).toBe(201);
        caseOf.set(r.body.caseId, s);
      }
      // zzu-cs has nominated two: a third, even of a project it does not own, is refused for the limit.
      const zzuCs = sources.filter((s) => s.institutionId === 'zzu-cs');
      expect(zzuCs).toHaveLength(2);
      const thirdEntry = await db()('directory_entries')
        .insert({
          programme: 'alliance',
          institution_id: 'zzu-cs',
          title_zh: 'zzu-cs alliance 第三个案例',
          field_key: 'next_gen_it',
          status: 'active',
          admitted_on: '2026-06-30',
        })
        .returning<{ id: string }[]>('id');
      const third = await nominate({ ...zzuCs[0]!, id: thirdEntry[0]!.id, title: 'zzu-cs 第三个推荐案例' });
      expect(third.status).toBe(409);
      expect(third.body.code).toBe('NOMINATION_LIMIT');
      expect(third.body.detail).toContain('至多推荐 2 个');
      // Another institution's member cannot be nominated.
      const foreign = await stack.request<Problem>('POST', `/api/showcases/${SHOWCASE}/nominations`, {
        token: await stack.token({ role: 'applicant', id: 'henu-cs' }),
        body: {
          sourceKind: 'directory_entry',
          sourceId: sources[0]!.id,
          title: '冒用他校成果',
          summary: '冒用其他单位名录成员推荐典型案例，应当被拒绝。',
        },
      });
      expect(foreign.body.code).toBe('SOURCE_NOT_ELIGIBLE');

      // The experts review what they are assigned, as soon as they are invited.
      const rubric = programmeCatalogue.find((p) => p.key === 'typical_case')!.rules.rubric.map((c) => c.key);
      const { assignments } = await scoreAssignedReviews(
        stack,
        { kind: 'showcase', id: SHOWCASE },
        (itemId) => uniformScores(rubric, caseOf.get(itemId)!.score),
        { timeoutMs: 90_000 },
      );
      await eventually(
        async () =>
          (await stack.client.workflow.getHandle(SHOWCASE).describe()).status.name === 'COMPLETED' ? true : undefined,
        { timeoutMs: 150_000, what: 'the showcase to be published' },
      );

      // The JSON API: the best QUOTA cases, best first.
      const json = await stack.request<{
        status: string;
        total: number;
        cases: { title: string; institutionName: string; score: number }[];
      }>('GET', `/api/showcases/${SHOWCASE}/cases`);
      expect(json.body.status).toBe('published');
      const expected = [...sources].sort((a, b) => b.score - a.score).slice(0, QUOTA);
      expect(json.body.cases.map((c) => [c.title, c.score])).toEqual(expected.map((s) => [s.title, s.score]));
      // Search by industry name.
      const searched = await stack.request<{ cases: { title: string }[] }>(
        'GET',
        `/api/showcases/${SHOWCASE}/cases?q=${encodeURIComponent('新一代信息技术')}`,
      );
      expect(searched.body.cases.map((c) => c.title)).toEqual(
        expected.filter((s) => s.title.includes('-cs ')).map((s) => s.title),
      );

      // The XLSX export, read back by openpyxl, has the JSON's rows; the CSV too.
      const xlsx = await fetch(`${stack.api.url}/api/showcases/${SHOWCASE}/cases?format=xlsx`);
      expect(xlsx.headers.get('content-type')).toContain('spreadsheetml');
      const file = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'ronghe-xlsx-')), 'cases.xlsx');
      fs.writeFileSync(file, Buffer.from(await xlsx.arrayBuffer()));
      const read = await readXlsx(file);
      expect(read.sheet).toBe('入选案例');
      expect(read.rows[0]).toEqual(['序号', '案例名称', '推荐单位', '项目类别', '所属产业', '专家评分', '案例简介']);
      const full = await stack.request<{
        cases: {
          title: string;
          institutionName: string;
          programmeName: string;
          industryName: string;
          score: number;
          summary: string;
        }[];
      }>('GET', `/api/showcases/${SHOWCASE}/cases`);
      expect(read.rows.slice(1)).toEqual(
        full.body.cases.map((c, i) => [
          i + 1,
          c.title,
          c.institutionName,
          c.programmeName,
          c.industryName,
          c.score,
          c.summary,
        ]),
      );
      const csvBytes = Buffer.from(
        await (await fetch(`${stack.api.url}/api/showcases/${SHOWCASE}/cases?format=csv`)).arrayBuffer(),
      );
      // A BOM first, so spreadsheet programs read the Chinese as UTF-8.
      expect([...csvBytes.subarray(0, 3)]).toEqual([0xef, 0xbb, 0xbf]);
      const csv = csvBytes.subarray(3).toString('utf8');
      expect(csv.startsWith('"序号"')).toBe(true);
      expect(csv.trim().split('\r\n')).toHaveLength(QUOTA + 1);

      // Every email exactly once: the call to every eligible institution, one result per nominated case.
      const mail = await eventually(async () => {
        const all = await stack.mailbox.list();
        return all.filter((m) => m.purpose === 'showcase_result').length === sources.length ? all : undefined;
      });
      const keys = mail.map((m) => `${m.to} ${m.purpose} ${m.idempotencyKey}`);
      expect(new Set(keys).size).toBe(keys.length);
      const institutions = [...new Set(sources.map((s) => s.email))].sort();
      const to = (purpose: string) =>
        mail
          .filter((m) => m.purpose === purpose)
          .map((m) => m.to)
          .sort();
      expect(to('showcase_call')).toEqual([...institutions, collegeEmail('haust', 'mat')].sort());
      // Reminders 7, 3 and 1 working days before the due day, only to the member that nominated nothing.
      const silent = collegeEmail('haust', 'mat');
      expect(to('showcase_reminder')).toEqual([silent, silent, silent]);
      expect(to('showcase_result')).toEqual(sources.map((s) => s.email).sort());
      const selectedMail = mail.filter((m) => m.purpose === 'showcase_result' && m.subject.includes('入选通知'));
      expect(selectedMail).toHaveLength(QUOTA);

      // Every decision audited.
      const audit = await db()('audit_events').where({ workflow_id: SHOWCASE }).select<{ action: string }[]>('action');
      const count = (action: string) => audit.filter((a) => a.action === action).length;
      expect(count('showcase.launch')).toBe(1);
      expect(count('showcase.nominate')).toBe(sources.length);
      // Every nomination was crashed once after its commit (the default fault): still one case each.
      expect(stack.crashedDecisions).toMatchObject({ recordNomination: sources.length });
      expect(await db()('showcase_cases').where({ showcase_id: SHOWCASE }).count<{ n: number }[]>('* as n')).toEqual([
        { n: sources.length },
      ]);
      expect(count('showcase.nomination_refused')).toBe(2);
      expect(count('showcase.publish')).toBe(1);
      const submitted = await db()('audit_events')
        .where({ action: 'review.submit', workflow_id: `review-${SHOWCASE}` })
        .count<{ n: number }[]>('* as n');
      expect(Number(submitted[0]!.n)).toBe(assignments.length);
      await recordHistories(stack.client, { [SHOWCASE]: SHOWCASE });
    },
  );

  it.skipIf(skipBrowserTests)(
    'the public showcase page shows the selected cases in zh-CN (real Chromium)',
    async () => {
      const page = await browser!.newPage();
      await page.goto(`${stack.api.url}/showcases/${SHOWCASE}`);
      expect(await page.getAttribute('html', 'lang')).toBe('zh-CN');
      expect(await page.textContent('h1')).toBe('2027年度产教融合典型案例成果展示');
      const titles = await page.locator('article.case h4').allTextContents();
      const expected = [...sources].sort((a, b) => b.score - a.score).slice(0, QUOTA);
      expect(titles.sort()).toEqual(expected.map((s) => s.title).sort());
      // Grouped by industry, then programme.
      const industries = await page.locator('section h2').allTextContents();
      expect(industries).toEqual(expect.arrayContaining(['新一代信息技术', '新能源', '新材料']));
      expect(await page.textContent('body')).toContain('经专家评审和公示');
      // The search box narrows the page.
      await page.fill('#q', '能源科学');
      await page.click('button[type=submit]');
      await page.waitForURL(/q=/);
      expect(await page.locator('article.case h4').allTextContents()).toEqual(
        expected.filter((s) => s.programme === 'practice_base').map((s) => s.title),
      );
      await page.close();
    },
  );
});

import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import type { AppError } from '../../api/errors.js';
import { assertDraftsOpen } from '../../api/routes/round.applications.access.js';
import type { RoundRow } from '../../db/repositories/round.js';
import {
  certainAtSubmission,
  formalFindings,
  formalProblems,
  formalRules,
  limitViolation,
  personalLimitViolation,
  type FormalRuleTiming,
} from '../../domain/applications.js';
import { effectiveRules, programmeCatalogue, rubricWeightTotal } from '../../domain/programmes.js';
import { industries } from '../../db/seeds/reference-data.js';
import { projectRoot } from '../support/paths.js';

const research = programmeCatalogue.find((p) => p.key === 'research_project')!;
const practice = programmeCatalogue.find((p) => p.key === 'practice_base')!;
const fields = new Set(['next_gen_it', 'high_end_equipment', 'modern_agriculture']);
const complete = {
  title: '智能制造产教融合研究',
  field: 'high_end_equipment',
  summary:
    '面向智能制造产业需求，校企共建课程体系与实践平台，联合培养应用型人才，形成可复制推广的产教融合育人模式与评价机制。',
  principal: { staffNo: 'T1', name: '王老师' },
};
const form = [{ kind: 'application_form', intact: true }];

describe('formal check (形式审查) of fields and attachments', () => {
  it('finds nothing wrong with a complete application', () => {
    expect(formalProblems('research_project', research.rules, complete, form, fields)).toEqual([]);
  });

  it('names each missing field and attachment in zh-CN', () => {
    expect(formalProblems('research_project', research.rules, { title: '短' }, [], fields)).toEqual([
      '缺少项目名称（至少 4 个字）',
      '缺少所属领域',
      '缺少项目简介或简介不足 50 字',
      '缺少项目负责人',
      '缺少附件：申报书',
    ]);
  });

  it('refuses a damaged attachment and a field outside the programme’s key industries', () => {
    const problems = formalProblems(
      'practice_base',
      practice.rules,
      { ...complete, field: 'modern_agriculture' },
      [{ kind: 'application_form', intact: false }],
      fields,
    );
    expect(problems).toEqual(['所属领域不在本项目类别限定的重点产业范围内', '附件“申报书”已损坏或丢失（校验值不符）']);
  });

  it('refuses an unknown field', () => {
    expect(
      formalProblems('research_project', research.rules, { ...complete, field: 'astrology' }, form, fields),
    ).toEqual(['所属领域“astrology”不在目录中']);
  });
});

const judgedEn: Record<FormalRuleTiming, string> = {
  submission: 'Refused at submission (422 `FORMAL_CHECK_FAILED`)',
  both: 'Checked at submission (409, its own code), judged again at the formal check',
  formal_check: 'Judged at the formal check only',
};

/** The README's per-programme list of formal-check rules, as `formalRules` states them for the catalogue. */
function rulesSection(): string {
  const names = new Map(industries.map((i) => [i.key, i.nameZh]));
  return programmeCatalogue
    .map((p) =>
      [
        `#### ${p.nameZh} (\`${p.key}\`)`,
        '',
        ...(Object.keys(judgedEn) as FormalRuleTiming[]).flatMap((judged) => {
          const rules = formalRules(p.key, p.rules, names).filter((r) => r.judged === judged);
          return rules.length ? [`- ${judgedEn[judged]}: ${rules.map((r) => r.textZh).join('；')}。`] : [];
        }),
      ].join('\n'),
    )
    .join('\n\n');
}

describe('formal-check rules known before the deadline', () => {
  it('when the README lists the formal-check rules per programme, then the list is what formalRules states', () => {
    const readme = fs.readFileSync(path.join(projectRoot, 'README.md'), 'utf8');
    const section = readme.split('<!-- formal-rules:begin -->')[1]?.split('<!-- formal-rules:end -->')[0];
    expect(section?.trim()).toBe(rulesSection());
  });

  it('names, for every problem the check can find, a rule of the programme; the certain ones are refused at submission', () => {
    for (const p of programmeCatalogue) {
      const findings = formalFindings(
        p.key,
        p.rules,
        { title: '短', field: 'astrology', avoidExperts: ['甲', '乙', '丙'] },
        [
          { kind: 'agreement', intact: false },
          { kind: 'supporting', intact: true },
        ],
        fields,
      );
      const keys = new Set(formalRules(p.key, p.rules).map((r) => r.key));
      expect(findings.every((f) => keys.has(f.rule))).toBe(true);
      // A damaged file is only known when the stored files are verified after the deadline.
      expect(certainAtSubmission(p.key, p.rules, findings).map((f) => f.rule)).toEqual(
        findings.filter((f) => f.rule !== 'attachments_intact').map((f) => f.rule),
      );
    }
  });
});

describe('limits', () => {
  const rules = effectiveRules(research.rules, { limits: { perApplicant: 2, perUniversity: 3 } });

  it('takes a round’s overrides over the programme’s rules, leaving the rest', () => {
    expect(rules.limits).toEqual({ perApplicant: 2, perUniversity: 3 });
    expect(rules.review).toEqual(research.rules.review);
  });

  it('allows up to the limit and refuses one more, per applicant and per university', () => {
    expect(limitViolation(rules, { byApplicant: 1, byUniversity: 2 })).toBeUndefined();
    expect(limitViolation(rules, { byApplicant: 2, byUniversity: 2 })).toContain('每单位限报 2 项');
    expect(limitViolation(rules, { byApplicant: 0, byUniversity: 3 })).toContain('每校限报 3 项');
  });

  it('allows a principal investigator to lead one open project and join two', () => {
    expect(
      personalLimitViolation(research.rules, { name: '王老师', led: 0 }, [{ name: '李老师', joined: 1 }]),
    ).toBeUndefined();
    expect(personalLimitViolation(research.rules, { name: '王老师', led: 1 }, [])).toContain('王老师 已主持 1 项');
    expect(personalLimitViolation(research.rules, undefined, [{ name: '李老师', joined: 2 }])).toContain(
      '李老师 已参与 2 项',
    );
    // Programmes without personal limits do not count people.
    expect(personalLimitViolation(practice.rules, { name: '王老师', led: 5 }, [])).toBeUndefined();
  });
});

describe('programme catalogue', () => {
  it.each(programmeCatalogue.map((p) => [p.key, p] as const))('%s has a rubric whose weights sum to 100', (_key, p) => {
    expect(rubricWeightTotal(p.rules.rubric)).toBe(100);
  });

  it('gives demo_university five reviewers and the others three', () => {
    for (const p of programmeCatalogue) {
      expect(p.rules.review.expertsPerApplication, p.key).toBe(p.key === 'demo_university' ? 5 : 3);
    }
  });
});

describe('drafts open until the deadline (assertDraftsOpen)', () => {
  const round: RoundRow = {
    id: 'round-brand_project-2027',
    programme: 'brand_project',
    year: 2027,
    titleZh: '2027年度产教融合品牌项目申报',
    status: 'call_open',
    opensAt: new Date('2027-03-15T01:00:00Z'),
    deadlineDay: '2027-04-06',
    // 24:00 Asia/Shanghai of 6 April.
    deadlineAt: new Date('2027-04-06T16:00:00Z'),
    deadlineEstimated: false,
    calendarVersion: 1,
    timeScale: null,
    launchedBy: 'staff:li',
    launchedAt: new Date('2027-03-15T01:00:00Z'),
    closedAt: null,
    cancelledReason: null,
    graceSeconds: 600,
    rulesVersion: 1,
    ruleAdjustments: {},
  };
  const refusal = (r: RoundRow, at: string) => {
    try {
      assertDraftsOpen(r, new Date(at));
      return undefined;
    } catch (err) {
      return [(err as AppError).code, (err as AppError).detail];
    }
  };

  it('takes an edit received at 23:59:59 and refuses one at 00:00:01 although the round still reads call_open', () => {
    expect(refusal(round, '2027-04-06T15:59:59Z')).toBeUndefined();
    expect(refusal(round, '2027-04-06T16:00:01Z')).toEqual([
      'CALL_CLOSED',
      '2027年度产教融合品牌项目申报已于 2027年4月6日 24:00 截止，不能再修改申报书',
    ]);
  });

  it('compares in calendar time under compression, counted from the launch', () => {
    // 1,000 calendar seconds per wall second: 22 days 15 hours of calendar time pass in 1,954.8 wall seconds.
    const compressed = { ...round, timeScale: 1000 };
    const wallAt = (calendarIso: string) =>
      new Date(
        round.launchedAt.getTime() + (Date.parse(calendarIso) - round.launchedAt.getTime()) / 1000,
      ).toISOString();
    expect(refusal(compressed, wallAt('2027-04-06T15:59:00Z'))).toBeUndefined();
    expect(refusal(compressed, wallAt('2027-04-06T16:01:00Z'))?.[0]).toBe('CALL_CLOSED');
  });

  it('refuses by status once the round moved on, and a cancelled round as cancelled', () => {
    expect(refusal({ ...round, status: 'review' }, '2027-04-01T00:00:00Z')?.[0]).toBe('CALL_CLOSED');
    expect(refusal({ ...round, status: 'cancelled' }, '2027-04-01T00:00:00Z')?.[0]).toBe('ROUND_CANCELLED');
  });
});

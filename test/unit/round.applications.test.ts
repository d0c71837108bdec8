import { describe, expect, it } from 'vitest';
import { formalProblems, limitViolation, personalLimitViolation } from '../../domain/applications.js';
import { effectiveRules, programmeCatalogue, rubricWeightTotal } from '../../domain/programmes.js';

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

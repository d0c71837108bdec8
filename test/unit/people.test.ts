import { describe, expect, it } from 'vitest';
import {
  avoidedExpertIds,
  matchAvoidEntry,
  normaliseName,
  normaliseStaffNo,
  parseAvoidEntry,
  type AvoidCandidate,
} from '../../domain/people.js';
import { ineligibility, type ReviewItem, type Reviewer } from '../../domain/review/assignment.js';

/** Issue 14, points 5 and 6: people are matched as people, not as strings. */
describe('normalisation of names and staff numbers', () => {
  it.each([
    ['黄 洋', '黄洋'],
    ['黄\u3000洋', '黄洋'],
    ['黄\u00a0洋', '黄洋'],
    ['黄\u200b洋', '黄洋'],
    ['\ufeff 黄洋\t\n', '黄洋'],
    ['黄\u2009洋\u2060', '黄洋'],
    ['Ｌｉ Ｍｉｎｇ', 'LiMing'],
  ])('name %j is %j', (raw, normal) => {
    expect(normaliseName(raw)).toBe(normal);
  });

  it.each([
    [' T2015031 ', 'T2015031'],
    ['t 2015 031', 'T2015031'],
    ['Ｔ２０１５０３１', 'T2015031'],
    ['t\u3000２015031\u200b', 'T2015031'],
    // Invisible characters a limit must not be bypassed with (the walk's): soft hyphen, LRM, invisible separator.
    ['T\u00ad2015031', 'T2015031'],
    ['T\u200e2015031', 'T2015031'],
    ['T\u20632015031', 'T2015031'],
    ['T2015031\u202e', 'T2015031'],
  ])('staff number %j is %j', (raw, normal) => {
    expect(normaliseStaffNo(raw)).toBe(normal);
  });
});

describe('avoid-list entries', () => {
  const pool: AvoidCandidate[] = [
    { id: 'e1', name: '黄洋', unitNames: ['郑州大学'] },
    { id: 'e2', name: '高刚', unitNames: ['计算机与人工智能学院', '郑州大学'] },
    { id: 'e3', name: '高刚', unitNames: ['宇通客车股份有限公司'] },
  ];

  it('reads a name with or without the unit, in half- or full-width brackets', () => {
    expect(parseAvoidEntry('黄 洋')).toEqual({ name: '黄洋' });
    expect(parseAvoidEntry('黄洋（郑州 大学）')).toEqual({ name: '黄洋', unit: '郑州大学' });
    expect(parseAvoidEntry('黄洋 (郑州大学)')).toEqual({ name: '黄洋', unit: '郑州大学' });
    expect(parseAvoidEntry('黄洋（）')).toEqual({ name: '黄洋', emptyUnit: true });
  });

  it('matches `黄 洋` to the expert 黄洋 (the example of the issue)', () => {
    expect(matchAvoidEntry('黄 洋', pool)).toEqual({ kind: 'one', expertId: 'e1' });
    expect(matchAvoidEntry('黄\u3000洋', pool)).toEqual({ kind: 'one', expertId: 'e1' });
  });

  it('tells no match and several matches apart, and a unit picks one of several', () => {
    expect(matchAvoidEntry('黄阳', pool)).toEqual({ kind: 'none' });
    expect(matchAvoidEntry('高刚', pool)).toEqual({ kind: 'several', count: 2 });
    expect(matchAvoidEntry('高刚（郑州大学）', pool)).toEqual({ kind: 'one', expertId: 'e2' });
    expect(matchAvoidEntry('高 刚(宇通客车)', pool)).toEqual({ kind: 'one', expertId: 'e3' });
    expect(matchAvoidEntry('高刚（河南大学）', pool)).toEqual({ kind: 'none' });
  });

  it('at assignment keeps away every expert an unresolved entry names', () => {
    expect(avoidedExpertIds(['黄 洋', '高刚'], pool).sort()).toEqual(['e1', 'e2', 'e3']);
    expect(avoidedExpertIds(['高刚（宇通客车）'], pool)).toEqual(['e3']);
  });
});

describe('回避 rules (ineligibility)', () => {
  const expert = (extra: Partial<Reviewer> = {}): Reviewer => ({
    id: 'x',
    fields: ['it'],
    institutionId: null,
    enterpriseId: null,
    conflictInstitutionIds: [],
    conflictEnterpriseIds: [],
    ...extra,
  });
  const item = (extra: Partial<ReviewItem> = {}): ReviewItem => ({
    id: 'a',
    field: 'it',
    need: 3,
    institutionIds: ['zzu'],
    universityId: 'zzu',
    enterpriseIds: [],
    avoidExpertIds: [],
    ...extra,
  });
  const atCollege = expert({ institutionId: 'zzu-cs', universityId: 'zzu' });

  it('keeps an expert of a college away from its university', () => {
    expect(ineligibility(atCollege, item())).toBe('own_institution');
  });

  it("keeps an expert of a college away from the university's other colleges", () => {
    expect(ineligibility(atCollege, item({ institutionIds: ['zzu-mech', 'zzu'], universityId: 'zzu' }))).toBe(
      'own_institution',
    );
  });

  it('keeps an expert of a university away from its colleges, and lets another university be', () => {
    const atUniversity = expert({ institutionId: 'zzu', universityId: 'zzu' });
    expect(ineligibility(atUniversity, item({ institutionIds: ['zzu-cs', 'zzu'] }))).toBe('own_institution');
    expect(ineligibility(atCollege, item({ institutionIds: ['henu'], universityId: 'henu' }))).toBeUndefined();
  });

  it('keeps away an expert employed by a seeded partner of the university, listed among the enterprises', () => {
    expect(ineligibility(expert({ enterpriseId: 'yutong' }), item({ enterpriseIds: ['yutong'] }))).toBe(
      'partner_enterprise',
    );
  });

  it('keeps away the expert the avoid list resolved to', () => {
    expect(ineligibility(expert(), item({ avoidExpertIds: ['x'] }))).toBe('avoid_list');
  });
});

import { describe, expect, it } from 'vitest';
import { materialForExperts } from '../../domain/review/material.js';

/** Issue 15, point 5: experts never see the applicant's avoid list. */
describe('materialForExperts', () => {
  it("drops the avoid list from a submitted application's draft and keeps everything else", () => {
    const version = {
      draft: {
        title: '面向智能制造的机械类专业产教融合育人模式研究',
        principal: { staffNo: 'T2015031', name: '王建国' },
        avoidExperts: ['黄洋（郑州大学）', '李明'],
      },
      attachments: [{ id: 'a1', kind: 'application_form', fileName: '申报书.pdf', sha256: 'ab' }],
    };
    const before = structuredClone(version);
    const material = materialForExperts(version);
    expect(material).toEqual({
      draft: { title: version.draft.title, principal: version.draft.principal },
      attachments: version.attachments,
    });
    expect(JSON.stringify(material)).not.toContain('黄洋');
    // The stored value is not changed.
    expect(version).toEqual(before);
  });

  it('drops it at any depth and inside arrays, and leaves other values alone', () => {
    expect(materialForExperts({ avoidExperts: ['甲'], summary: '自评' })).toEqual({ summary: '自评' });
    expect(materialForExperts([{ x: { avoidExperts: [], y: 1 } }])).toEqual([{ x: { y: 1 } }]);
    expect(materialForExperts(null)).toBeNull();
    expect(materialForExperts('文本')).toBe('文本');
    expect(materialForExperts({ summary: '案例', indicators: { 企业兼职教师人数: 18 } })).toEqual({
      summary: '案例',
      indicators: { 企业兼职教师人数: 18 },
    });
  });
});

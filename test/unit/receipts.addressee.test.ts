import { describe, expect, it } from 'vitest';
import { receiptAddressee, receiptRequestZh } from '../../domain/receipts.js';

describe('whom a refused receipt is written to', () => {
  it('when an applicant made the request, then its institution is told', () => {
    expect(receiptAddressee('applicant:zzu', { applicationId: 'a' })).toEqual({
      kind: 'institution',
      institutionId: 'zzu',
    });
  });

  it('when an expert made the request, then the expert is told', () => {
    expect(receiptAddressee('expert:e-017', {})).toEqual({ kind: 'expert', expertId: 'e-017' });
  });

  it('when a member of the public objected, then the address the objection carries is used, with the name', () => {
    expect(receiptAddressee('public:王芳', { email: ' wang.fang@example.cn ', name: '王芳' })).toEqual({
      kind: 'public',
      name: '王芳',
      email: 'wang.fang@example.cn',
    });
  });

  it('when there is no address or no person to write to, then nobody is told', () => {
    expect(receiptAddressee('public:王芳', { phone: '13800000000' })).toBeUndefined();
    expect(receiptAddressee('public:王芳', { email: 'not an address' })).toBeUndefined();
    expect(receiptAddressee('public:王芳', null)).toBeUndefined();
    expect(receiptAddressee('public', { email: 'a@example.cn' })).toBeUndefined();
    expect(receiptAddressee('staff:li', {})).toBeUndefined();
    expect(receiptAddressee('applicant:', {})).toBeUndefined();
    expect(receiptAddressee(':zzu', {})).toBeUndefined();
  });
});

describe('what a receipt’s request is called', () => {
  it('names each request the API keeps as a receipt in zh-CN, and any other plainly', () => {
    expect(receiptRequestZh('submitApplication')).toBe('提交申报');
    expect(receiptRequestZh('fileObjection')).toBe('公示异议');
    expect(receiptRequestZh('rsvp')).toBe('答复活动邀请（参会回复）');
    expect(receiptRequestZh('toString')).toBe('其他请求');
  });
});

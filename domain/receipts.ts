/**
 * Durable receipts (`update_receipts`, issue 13 point 3) as people meet them: what a receipt's request is called
 * in zh-CN, and who is told when a redelivered one is refused. Pure: the API's receipt route and the
 * redelivery activity both read it.
 */

import { actorBase } from './accounts.js';

/**
 * The zh-CN name of each request kept as a receipt, by its Update name (the `defineUpdate` names in
 * `workflows/*.messages.ts` that the API sends through `deliverReceipt`).
 */
const REQUEST_ZH: Readonly<Record<string, string>> = {
  submitApplication: '提交申报',
  withdrawApplication: '撤回申报',
  fileObjection: '公示异议',
  submitEvaluationReport: '提交年度自评报告',
  submitRectificationReport: '提交整改报告',
  submitProjectReport: '提交项目报告（中期检查或结项）',
  rsvp: '答复活动邀请（参会回复）',
  nominateCase: '推荐典型案例',
};

/** The zh-CN name of a receipt's request by its Update name, e.g. `submitApplication` → 提交申报; 其他请求 otherwise. */
export function receiptRequestZh(updateName: string): string {
  return Object.hasOwn(REQUEST_ZH, updateName) ? REQUEST_ZH[updateName]! : '其他请求';
}

/**
 * Who is told of a receipt's answer, from the receipt's `caller` (`applicant:<institutionId>`,
 * `expert:<expertId>`, `public:<name>`, each possibly followed by an account's `|account:<id>`) and, for the
 * public, the address the request itself carries.
 */
export type ReceiptAddressee =
  | { kind: 'institution'; institutionId: string }
  | { kind: 'expert'; expertId: string }
  | { kind: 'public'; name: string; email: string };

/**
 * Resolves whom to tell of a receipt's answer: an applicant's institution (its contact address is on record), an
 * expert (likewise), or a member of the public at the `email` of the Update argument (an objection carries the
 * objector's address). `undefined` when nobody can be told: another caller (staff, the bare `public` of old
 * rows), an empty id, or a public request without an address.
 */
export function receiptAddressee(callerWithAccount: string, updateArg: unknown): ReceiptAddressee | undefined {
  // An account's actor names the person after `|account:`; the institution or expert stands before it.
  const caller = actorBase(callerWithAccount);
  const colon = caller.indexOf(':');
  if (colon <= 0) return undefined;
  const kind = caller.slice(0, colon);
  const id = caller.slice(colon + 1).trim();
  if (!id) return undefined;
  if (kind === 'applicant') return { kind: 'institution', institutionId: id };
  if (kind === 'expert') return { kind: 'expert', expertId: id };
  if (kind === 'public') {
    const email = (updateArg as { email?: unknown } | null | undefined)?.email;
    if (typeof email !== 'string' || !/^[^\s@]+@[^\s@]+$/.test(email.trim())) return undefined;
    return { kind: 'public', name: id, email: email.trim() };
  }
  return undefined;
}

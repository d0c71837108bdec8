import { createHash } from 'node:crypto';
import type { Request, Response } from 'express';
import { UUID_PATTERN } from './schemas.js';
import stableStringify from 'safe-stable-stringify';
import type { Clock } from './clock.js';
import type { Client } from '@temporalio/client';
import type { Db } from '../db/knex.js';
import { recordAudit } from '../db/repositories/audit.js';
import {
  hasVisibleCharacter,
  isCleanText,
  isOneLine,
  ONE_LINE_RULE_ZH,
  TEXT_RULE_ZH,
  VISIBLE_RULE_ZH,
} from '../domain/people.js';
import { findPeriod } from '../db/repositories/publicity.views.js';
import { fileObjectionUpdate } from '../workflows/publicity.messages.js';
import { AppError } from './errors.js';
import type { ObjectionLimits } from './rate-limit.js';
import { requestIdOf } from './request.js';
import { deliverReceipt } from './workflow-calls.js';
import { MAILBOX_RULE_ZH, parseTypedMailbox } from '../mail/address.js';

/** What an objector submits, from the JSON API or the public page's form. */
export interface ObjectionForm {
  entryId?: string | undefined;
  name?: string | undefined;
  unit?: string | undefined;
  phone?: string | undefined;
  email?: string | undefined;
  onBehalfOfUnit?: boolean | undefined;
  facts?: string | undefined;
  evidence?: string[] | undefined;
  /** For an appeal against a removal from the directory: procedural grounds only are heard. */
  grounds?: 'substantive' | 'procedural' | undefined;
}

export interface ObjectionIntakeDeps {
  db: Db;
  temporal: Client;
  limits: ObjectionLimits;
  clock: Clock;
}

const PHONE = /^[0-9+\-\s()]{7,20}$/;

/**
 * The phone numbers the OpenAPI document promises to take: `PHONE`'s characters, no blanks at either end (so
 * trimming changes nothing) and spaces only inside — a subset of what `PHONE` accepts after trimming.
 */
export const OBJECTION_PHONE_DOCUMENTED = /^[0-9+\-()][0-9+\-() ]{5,18}[0-9+\-()]$/;

/** Checks an objection as the SPEC asks: under a real name (name, work unit, phone, email), with facts. */
function checkObjection(
  form: ObjectionForm,
): Required<Pick<ObjectionForm, 'name' | 'unit' | 'phone' | 'email' | 'facts'>> {
  const missing = (
    [
      ['name', '姓名'],
      ['unit', '工作单位'],
      ['phone', '联系电话'],
      ['email', '电子邮箱'],
    ] as const
  )
    .filter(([key]) => !form[key]?.trim())
    .map(([, label]) => label);
  if (missing.length > 0) {
    throw new AppError('REAL_NAME_REQUIRED', `异议须实名提出，请填写：${missing.join('、')}`, { missing });
  }
  const problems: string[] = [];
  if (!PHONE.test(form.phone!.trim())) problems.push('联系电话格式不正确');
  const email = parseTypedMailbox(form.email);
  if (!email) problems.push(`电子邮箱${MAILBOX_RULE_ZH}`);
  if ((form.facts?.trim().length ?? 0) < 10) problems.push('请写明异议的事实与理由（至少 10 个字）');
  if (form.entryId && !UUID_PATTERN.test(form.entryId)) problems.push('异议所涉项目无效');
  if ((form.name?.length ?? 0) > 40 || (form.unit?.length ?? 0) > 100 || (form.facts?.length ?? 0) > 5000)
    problems.push('内容过长');
  if ((form.evidence?.length ?? 0) > 10) problems.push('证据材料至多 10 项');
  // Text an official reads back, in a notice or an email: one visible line for a name, no control or invisible
  // character anywhere (a bidi override would show it reversed).
  for (const [label, value] of [
    ['姓名', form.name!],
    ['工作单位', form.unit!],
  ] as const) {
    if (!isOneLine(value)) problems.push(`${label}${ONE_LINE_RULE_ZH}`);
    else if (!hasVisibleCharacter(value)) problems.push(`${label}${VISIBLE_RULE_ZH}`);
  }
  if (!isCleanText(form.facts ?? '')) problems.push(`事实与理由${TEXT_RULE_ZH}`);
  if ((form.evidence ?? []).some((e) => !isCleanText(e))) problems.push(`证据材料${TEXT_RULE_ZH}`);
  if (problems.length > 0) throw new AppError('VALIDATION_FAILED', problems.join('；'));
  return {
    name: form.name!.trim(),
    unit: form.unit!.trim(),
    phone: form.phone!.trim(),
    email: email!,
    facts: form.facts!.trim(),
  };
}

/** What makes two objections the same objection: who, how to reach them, which item, what they say (sha256, hex). */
function objectionFingerprint(checked: ReturnType<typeof checkObjection>, form: ObjectionForm): string {
  return createHash('sha256')
    .update(
      stableStringify({
        ...checked,
        entryId: form.entryId || null,
        onBehalfOfUnit: form.onBehalfOfUnit ?? false,
        evidence: form.evidence ?? [],
        grounds: form.grounds ?? null,
      }) ?? '',
    )
    .digest('hex')
    .slice(0, 32);
}

/**
 * Takes an objection in: checks it, counts it against the rate limits (per client address, objector email and
 * publicity period, in PostgreSQL; a refused one writes nothing), stamps the receipt time (audited), and
 * hands it to the publicity workflow, which accepts it only inside the period.
 *
 * The same objection twice is filed once: an objection identical to one already filed in the period (same
 * person, contact, item, facts, evidence and grounds) is answered as a repeat with the first, whatever key or page
 * it came through. With an Idempotency-Key (`meta.idempotencyKey`, the JSON API) or the public page's per-render
 * key (`meta.formKey`, a UUID), a retry is also the same request: for the form, the same Update id, so a browser
 * resending the form after an outage gets the first receipt time and the first answer.
 *
 * @throws AppError REAL_NAME_REQUIRED, VALIDATION_FAILED, PUBLICITY_NOT_FOUND, RATE_LIMITED, RECEIPT_KEPT; the
 *   workflow's refusal (PUBLICITY_CLOSED, …).
 */
export async function fileObjection(
  deps: ObjectionIntakeDeps,
  publicityId: string,
  form: ObjectionForm,
  meta: {
    /**
     * The HTTP exchange: the client address (`req.ip`, audited and kept with the objection) and the request id
     * are read from it; the limits count the address and set their headers on the answer.
     */
    http: { req: Request; res: Response };
    idempotencyKey?: string | undefined;
    /** The public page's hidden per-render key (a UUID; anything else is ignored). */
    formKey?: string | undefined;
    /** The first receipt under the request's Idempotency-Key; the API's clock otherwise. */
    receivedAt?: Date | undefined;
    updateId?: string | undefined;
  },
) {
  const checked = checkObjection(form);
  const period = UUID_PATTERN.test(publicityId) ? await findPeriod(deps.db, publicityId) : undefined;
  if (!period) throw new AppError('PUBLICITY_NOT_FOUND', publicityId);
  const { req, res } = meta.http;
  await deps.limits.check(req, res, { publicityId: period.id, email: checked.email });
  const clientIp = req.ip ?? 'unknown';
  const content = objectionFingerprint(checked, form);
  const formKey = meta.formKey && UUID_PATTERN.test(meta.formKey) ? meta.formKey : undefined;
  const receivedAt = (meta.receivedAt ?? deps.clock()).toISOString();
  await recordAudit(deps.db, {
    actor: `public:${checked.name}`,
    role: 'public',
    action: 'objection.receipt',
    subjectKind: 'publicity',
    subjectId: period.id,
    details: { receivedAt, clientIp, idempotencyKey: meta.idempotencyKey ?? formKey ?? null },
    requestId: requestIdOf(req),
    workflowId: period.workflowId,
  });
  const recorded = await deliverReceipt(
    deps,
    period.workflowId,
    fileObjectionUpdate,
    {
      publicityId: period.id,
      entryId: form.entryId || undefined,
      ...checked,
      onBehalfOfUnit: form.onBehalfOfUnit ?? false,
      evidence: form.evidence ?? [],
      ...(form.grounds ? { grounds: form.grounds } : {}),
      receivedAt,
      // The objection's identity is its content (see above), whatever key it came with.
      idempotencyKey: `${period.id}:${content}`,
      clientIp,
    },
    {
      updateId: meta.updateId ?? (formKey ? `public/form/${formKey}/${content}` : undefined),
      caller: `public:${checked.name}`,
      whenEnded: () => new AppError('PUBLICITY_CLOSED', `${period.titleZh}已结束，不再受理异议`),
    },
  );
  return recorded;
}

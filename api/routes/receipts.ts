import type { Db } from '../../db/knex.js';
import { findReceipt, type StoredReceipt } from '../../db/repositories/receipts.js';
import { formatShanghai } from '../../domain/calendar/index.js';
import { receiptRequestZh } from '../../domain/receipts.js';
import type { Principal } from '../auth.js';
import { AppError } from '../errors.js';
import { granteeOf, z, type ApiRoutes } from '../route.js';

export interface ReceiptRouteDeps {
  db: Db;
}

const ReceiptSchema = z
  .object({
    receiptId: z.string().openapi({ description: '回执编号（该请求的 Update id）', example: 'receipt/3f2b9c4e-…' }),
    update: z.object({
      name: z.string().openapi({ example: 'submitApplication' }),
      labelZh: z.string().openapi({ example: '提交申报' }),
    }),
    receivedAt: z.string().openapi({ description: '接收时间（北京时间）', example: '2027-04-06T23:00:00+08:00' }),
    status: z.enum(['pending', 'accepted', 'refused', 'failed']).openapi({
      description:
        'pending 已留存、等待送交流程办理；accepted 已受理；refused 未予受理（见 code、message）；failed 系统出错未能办理',
    }),
    code: z.string().optional().openapi({ description: '未予受理时的错误代码', example: 'DEADLINE_PASSED' }),
    message: z.string().optional().openapi({ description: '未予受理或未能办理的原因' }),
    answeredAt: z.string().optional().openapi({ description: '流程答复的时间（北京时间）' }),
    redeliveries: z.number().int().openapi({ description: '系统自动重新送交的次数' }),
    workflowId: z.string().optional().openapi({ description: '仅工作人员与运维人员可见' }),
    caller: z.string().optional().openapi({ description: '请求人（仅管理服务中心工作人员可见，运维人员不可见）' }),
    updateArg: z
      .unknown()
      .optional()
      .openapi({ description: '请求内容，含个人信息（仅管理服务中心工作人员可见，运维人员不可见）' }),
  })
  .openapi('Receipt');

/**
 * How much of a receipt a reader sees: `full` — officers and administrators (`granteeOf` = staff): every
 * receipt, with its workflow, its caller and the request's contents (personal data: an objector's name and
 * address, a withdrawal's reason); `operational` — ops engineers: every receipt's state and its workflow id (to
 * follow a redelivery or a failure), never its caller or contents (SPEC "People": no programme content for ops);
 * `own` — a signed-in principal its own receipts (`caller` is its actor), anyone holding the id a `public:*`
 * one (an objection's id is an unguessable `receipt/<uuid>` or the objector's own key), state only. `undefined`:
 * the reader may not, and is told the receipt does not exist.
 */
type ReceiptView = 'full' | 'operational' | 'own';

/** What `principal` sees of `receipt` (`ReceiptView`), or `undefined` when it may not read it. */
function viewOf(receipt: StoredReceipt, principal: Principal | undefined): ReceiptView | undefined {
  const grantee = principal ? granteeOf(principal) : undefined;
  if (grantee === 'staff') return 'full';
  if (grantee === 'ops') return 'operational';
  if (principal && receipt.caller === principal.actor) return 'own';
  return receipt.caller === 'public' || receipt.caller.startsWith('public:') ? 'own' : undefined;
}

/** A receipt as its reader may see it (`ReceiptView`). */
function view(receipt: StoredReceipt, seen: ReceiptView): z.infer<typeof ReceiptSchema> {
  return {
    receiptId: receipt.updateId,
    update: { name: receipt.updateName, labelZh: receiptRequestZh(receipt.updateName) },
    receivedAt: formatShanghai(receipt.receivedAt),
    status: receipt.status,
    ...(receipt.code ? { code: receipt.code } : {}),
    ...(receipt.message ? { message: receipt.message } : {}),
    ...(receipt.answeredAt ? { answeredAt: formatShanghai(receipt.answeredAt) } : {}),
    redeliveries: receipt.redeliveries,
    ...(seen !== 'own' ? { workflowId: receipt.workflowId } : {}),
    ...(seen === 'full' ? { caller: receipt.caller, updateArg: receipt.updateArg } : {}),
  };
}

/** Reading a kept receipt (`update_receipts`): the receipt id a 503 gave, and what became of the request. */
export function receiptRoutes(routes: ApiRoutes, { db }: ReceiptRouteDeps): void {
  routes.add({
    method: 'get',
    path: '/api/receipts/:receiptId',
    summary: '查询回执：留存请求的办理结果',
    description:
      '流程引擎暂时不可用时，提交申报、撤回、报告、推荐、参会回复、异议等请求按接收时间留存，答复 503 并附回执编号' +
      '（receiptId），恢复后自动送交办理。此处查询其状态；未予受理或未能办理的，另以邮件告知请求人。' +
      '回执编号含 “/” 与 “#”，须整体 URL 编码后作为一个路径段。工作人员可查看任意回执及请求人、请求内容；' +
      '运维人员可查看任意回执的办理状态与流程编号，不含请求人与请求内容；登录用户可查看本人的回执；' +
      '公众提出的异议凭回执编号即可查看（不含请求内容）。',
    tags: ['回执'],
    access: 'public',
    params: z.object({
      receiptId: z
        .string()
        .min(1)
        .max(500)
        .openapi({ title: '回执编号', description: '回执编号（URL 编码）', example: 'applicant%3Azzu%2Fkey-1%231' }),
    }),
    responses: { 200: { description: '回执及其办理结果', schema: ReceiptSchema } },
    errors: ['RECEIPT_NOT_FOUND'],
    async handler({ params, principal }) {
      const receipt = await findReceipt(db, params.receiptId);
      const seen = receipt ? viewOf(receipt, principal) : undefined;
      if (!receipt || !seen) throw new AppError('RECEIPT_NOT_FOUND', params.receiptId);
      return { status: 200, body: view(receipt, seen) };
    },
  });
}

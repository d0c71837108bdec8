import { body, type RenderedEmail, type WhereToAct } from './common.js';

/** What a procedure's step is called in a notice to staff, by workflow type. */
const STEP_ZH: Record<string, string> = {
  reviewWorkflow: '专家评审',
  publicityWorkflow: '公示',
};

/**
 * To staff when a procedure's sub-workflow (a review, a publicity period) failed: the procedure waits, and
 * staff retry the step in the system (README "When a step fails") once the cause is fixed. `reason` is
 * the failure's message; `attempt` counts the failures of this step (1 for the first).
 */
export function childWorkflowFailed(
  d: WhereToAct & {
    parentWorkflowId: string;
    childWorkflowId: string;
    childType: string;
    attempt: number;
    reason: string;
  },
): RenderedEmail {
  const step = STEP_ZH[d.childType] ?? d.childType;
  return {
    subject: `【需处理】流程 ${d.parentWorkflowId} 的${step}环节失败${d.attempt > 1 ? `（第 ${d.attempt} 次）` : ''}，等待重试`,
    text: body([
      `流程 ${d.parentWorkflowId} 的${step}环节（子流程 ${d.childWorkflowId}）未能完成：`,
      '',
      d.reason,
      '',
      `该流程已暂停在此环节，不会自动继续。排除原因后，请登录 ronghe 系统（${d.signInUrl}）重试流程 ${d.parentWorkflowId} 的该环节。`,
    ]),
  };
}

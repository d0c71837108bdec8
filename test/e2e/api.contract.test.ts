import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  CONTRACT_INSTITUTION,
  MANY_CALLS_STACK,
  seedContract,
  type ContractIds,
  type ContractRole,
} from '../support/contract.seed.js';
import { enterprises, universities } from '../../db/seeds/reference-data.js';
import { installSchemathesis, runSchemathesis } from '../support/schemathesis.js';
import { startTestStack, type TestStack } from '../support/stack.js';
import { REFERENCE_LISTS } from '../../db/repositories/reference-lists.js';
import { writeWorkbookXlsx } from '../../services/spreadsheet.js';

/**
 * Issue 14, point 4: the OpenAPI document says what validation enforces. schemathesis (pinned in
 * test/contract/requirements.txt) runs against the API on the real stack once per role, over the operations the
 * route declares that role may call (`x-roles`), with ids the role owns: no server error, every answer as
 * documented (status, schema, content type), every schema-valid request accepted. Each role sends a personal
 * access token of a real account: staff's is a staff administrator's, whose run (`x-roles/administrator`)
 * covers every staff route and the administrator-only account routes.
 */
let stack: TestStack;
let pythonPath: string;
let ids: ContractIds;
/** A reference workbook (one enterprise) for POST /api/reference/import, base64: schemathesis sends it as is. */
let workbookBase64: string;

beforeAll(async () => {
  [stack, pythonPath] = await Promise.all([
    // Objections are rate-limited per source; the run files many from one address. Decisions are not crashed
    // after their commit here (every other end-to-end file proves the retry): each would cost a retry's wait.
    // Per email and per publicity too (the examples phase sends the documented objector every time), and sign-in
    // attempts: the runs sign in many times from one address.
    startTestStack(MANY_CALLS_STACK),
    installSchemathesis(),
  ]);
  ids = await seedContract(stack);
  const list = REFERENCE_LISTS.enterprises;
  workbookBase64 = (
    await writeWorkbookXlsx([
      {
        name: list.titleZh,
        shape: list.shape,
        rows: [{ id: 'contract-workbook', nameZh: '合同测试工作簿企业', industry: '新材料', city: '郑州' }],
      },
    ])
  ).toString('base64');
}, 600_000);

afterAll(async () => {
  await stack?.stop();
});

function environment(role: ContractRole): Record<string, string> {
  const expert = role === 'expert';
  const own = ids.accounts[role];
  return {
    CONTRACT_TOKEN_ID: own.spareTokenId,
    CONTRACT_TOKEN_IN_USE_ID: own.tokenId,
    // The accounts the runs authenticate with: the administrator's run may neither disable them nor re-invite.
    CONTRACT_ACCOUNTS_IN_USE: Object.values(ids.accounts)
      .map((a) => a.accountId)
      .join(','),
    CONTRACT_ACCOUNT_ID: ids.disablableAccountId,
    CONTRACT_INVITABLE_ACCOUNT_ID: ids.invitableAccountId,
    CONTRACT_SIGN_IN_EMAIL: ids.signIn.email,
    CONTRACT_SIGN_IN_PASSWORD: ids.signIn.password,
    CONTRACT_ENTERPRISE: ids.enterpriseId,
    CONTRACT_POOL_EXPERT: ids.poolExpertId,
    CONTRACT_WORKBOOK_BASE64: workbookBase64,
    CONTRACT_ROUND_ID: expert ? ids.reviewRoundId : ids.roundId,
    CONTRACT_APPLICATION_ID: expert ? ids.reviewedApplicationId : ids.applicationId,
    CONTRACT_ATTACHMENT_ID: expert ? ids.reviewedAttachmentId : ids.attachmentId,
    CONTRACT_ASSIGNMENT_ID: ids.assignmentId,
    CONTRACT_PUBLICITY_ID: ids.publicityId,
    CONTRACT_PUBLICITY_ENTRY_ID: ids.publicityEntryId,
    CONTRACT_OBJECTION_ID: ids.objectionId,
    CONTRACT_ENTRY_ID: ids.entryId,
    CONTRACT_REVOCABLE_ENTRY_ID: ids.revocableEntryId,
    CONTRACT_NOMINABLE_ENTRY_ID: ids.nominableEntryId,
    CONTRACT_EVALUATION_ID: ids.evaluationId,
    CONTRACT_PROJECT_ID: ids.projectId,
    CONTRACT_EVENT_ID: ids.eventId,
    CONTRACT_SHOWCASE_ID: ids.showcaseId,
    CONTRACT_SCHEDULE_ID: ids.scheduleId,
    CONTRACT_OUTBOX_ID: ids.outboxId,
    CONTRACT_RECEIPT_ID: ids.receiptId,
    CONTRACT_WORKFLOW_ID: ids.workflowId,
    CONTRACT_REVIEW_ID: ids.reviewId,
    CONTRACT_PUBLICITY_ROUND_ID: ids.publicityRoundId,
    CONTRACT_REVIEW_ROUND_ID: ids.reviewRoundId,
    CONTRACT_CANCELLABLE_ROUND_ID: ids.cancellableRoundId,
    CONTRACT_TERMINABLE_PROJECT_ID: ids.terminableProjectId,
    CONTRACT_CHANGEABLE_EVENT_ID: ids.changeableEventId,
    CONTRACT_DECLINABLE_ASSIGNMENT_ID: ids.declinableAssignmentId,
    CONTRACT_RUBRIC_KEYS: ids.rubricKeys.join(','),
    CONTRACT_INSTITUTION,
    // A change of the seeded institution or enterprise keeps its name (names are unique).
    CONTRACT_INSTITUTION_NAME: universities.find((u) => u.id === CONTRACT_INSTITUTION)!.nameZh,
    CONTRACT_ENTERPRISE_NAME: enterprises.find((e) => e.id === ids.enterpriseId)!.nameZh,
  };
}

describe('the API contract (schemathesis, once per role)', () => {
  // Staff last: its stateful phase follows the ids GET /api/directory and the like return, and revokes,
  // cancels or terminates what it finds there, records the other roles act on.
  it.each(['applicant', 'expert', 'staff'] as const)(
    '%s: 0 failures, no warning',
    async (role) => {
      const run = await runSchemathesis(
        pythonPath,
        'test/contract/schemathesis.toml',
        [
          `${stack.api.url}/openapi.json`,
          '--url',
          stack.api.url,
          '-H',
          `Authorization: Bearer ${ids.accounts[role].token}`,
          '--include-by',
          // Staff runs as an administrator: every staff route and the administrator-only ones.
          `/x-roles/${role === 'staff' ? 'administrator' : role} == true`,
          // The runs call with a bearer token; a session-only operation (creating a token) answers it 403 by design.
          '--exclude-by',
          '/x-session-only == true',
        ],
        environment(role),
        // A cap against a hung run, far above a run's length on a loaded 2-core machine (the staff run covers ~90
        // operations): never a measure of speed.
        900_000,
      );
      // schemathesis's summary (operations, phases, failures, warnings, test cases), for the record.
      console.log(`schemathesis, ${role}:\n${run.output.slice(run.output.lastIndexOf('SUMMARY'))}`);
      for (const warning of ['Schema validation mismatch', 'Authentication failed', 'Missing test data']) {
        expect(run.output, warning).not.toContain(warning);
      }
      expect(run.code, run.output).toBe(0);
    },
    960_000,
  );
});

import { Readable } from 'node:stream';
import type { Db } from '../../db/knex.js';
import { insertRound } from '../../db/repositories/round.js';
import { addAttachment } from '../../db/repositories/round.applications.js';
import type { AttachmentStore } from '../../storage/attachments.js';
import type { RoundInput } from '../../workflows/round.messages.js';

/**
 * The 2027 demo-university round of the time-skipping tests: the call opens Mon 2027-03-15 at 09:00 and its
 * deadline is Tue 2027-04-06 (24:00 Asia/Shanghai), as staff launched it. Inserts the round's row and returns
 * the workflow's input; the test starts the workflow itself.
 */
export async function insertDemoRound(db: Db): Promise<RoundInput> {
  const input: RoundInput = {
    roundId: 'round-demo_university-2027',
    programme: 'demo_university',
    year: 2027,
    opensAt: '2027-03-15T09:00:00+08:00',
    deadlineDay: '2027-04-06',
    launchedBy: 'staff:test',
  };
  await insertRound(db, {
    id: input.roundId,
    programme: input.programme,
    year: input.year,
    titleZh: '2027年度产教融合示范高校申报',
    opensAt: new Date(input.opensAt),
    deadlineDay: input.deadlineDay,
    launchedBy: input.launchedBy,
  });
  return input;
}

/** Stores a small 申报书 PDF and attaches it to the application as its `application_form`, uploaded by the institution. */
export async function attachApplicationForm(
  db: Db,
  attachments: AttachmentStore,
  applicationId: string,
  institutionId: string,
): Promise<void> {
  const file = await attachments.save(Readable.from([Buffer.from('%PDF-1.7\n申报书\n%%EOF\n')]), 'application/pdf');
  await addAttachment(db, {
    applicationId,
    kind: 'application_form',
    fileName: '申报书.pdf',
    contentType: 'application/pdf',
    sizeBytes: file.size,
    sha256: file.sha256,
    storageKey: file.storageKey,
    uploadedBy: `applicant:${institutionId}`,
  });
}

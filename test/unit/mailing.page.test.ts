import { MockActivityEnvironment } from '@temporalio/testing';
import { DefaultLogger } from '@temporalio/worker';
import { describe, expect, it } from 'vitest';
import { mailPage } from '../../activities/mailing.js';
import {
  EmailBackingOffError,
  EmailBeingSentError,
  type DeliveryResult,
  type Outbox,
  type OutgoingEmail,
} from '../../mail/outbox.js';

/** An outbox whose `deliver` answers by recipient: sent, or one of the errors a retried activity waits out. */
function outboxAnswering(answers: Record<string, DeliveryResult | Error>) {
  const asked: string[] = [];
  const outbox = {
    deliver(email: OutgoingEmail) {
      asked.push(email.recipient);
      const answer = answers[email.recipient]!;
      return answer instanceof Error ? Promise.reject(answer) : Promise.resolve(answer);
    },
  } as unknown as Outbox;
  return { outbox, asked };
}

const rows = ['a', 'b', 'c', 'd'].map((id) => ({ id }));
const letter = (row: { id: string }) => ({
  key: `w/notice/${row.id}`,
  recipient: `${row.id}@example.edu`,
  email: { subject: '通知', text: '正文', html: '<p>正文</p>' },
});
const run = (outbox: Outbox) =>
  new MockActivityEnvironment(undefined, { logger: new DefaultLogger('WARN') }).run(() =>
    mailPage(outbox, { workflowId: 'w', purpose: 'notice' }, { batchSize: 4 }, rows, letter),
  );

describe('mailPage', () => {
  it('mails the whole page past a recipient backing off or held by another sender, then asks to be retried', async () => {
    const backingOff = new EmailBackingOffError('b: next attempt later');
    const { outbox, asked } = outboxAnswering({
      'a@example.edu': 'sent',
      'b@example.edu': backingOff,
      'c@example.edu': new EmailBeingSentError('c: another sender'),
      'd@example.edu': 'sent',
    });
    await expect(run(outbox)).rejects.toBe(backingOff);
    expect(asked).toEqual(['a@example.edu', 'b@example.edu', 'c@example.edu', 'd@example.edu']);
  });

  it('counts what it sent and what was sent before, and fails at once on any other error', async () => {
    const done = outboxAnswering({
      'a@example.edu': 'sent',
      'b@example.edu': 'already_sent',
      'c@example.edu': 'sent',
      'd@example.edu': 'sent',
    });
    expect(await run(done.outbox)).toEqual({ sent: 3, alreadySent: 1, last: 'd', done: false });
    const broken = outboxAnswering({ 'a@example.edu': 'sent', 'b@example.edu': new Error('database down') });
    await expect(run(broken.outbox)).rejects.toThrow('database down');
    expect(broken.asked).toEqual(['a@example.edu', 'b@example.edu']);
  });
});

import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { EmailRef } from '../../mail/outbox.js';
import { universityContacts } from '../support/expected.js';
import { recipientPurposePairs } from '../support/mailbox.js';
import { startTestStack, type TestStack } from '../support/stack.js';

/**
 * A crash is simulated once at each of the two moments that matter, for one recipient each:
 *  (a) after the outbox recorded the email as sent — the retried activity must not send it again;
 *  (b) after the SMTP server accepted it but before the outbox recorded it — the one resend must carry the
 *      same Message-ID, so that mail clients fold the copies.
 */
const crashAfterCommit = 'jwc@henu.edu.example';
const crashBeforeCommit = 'jwc@zzu.edu.example';
const injected = { afterCommit: 0, beforeCommit: 0 };

function once(recipient: string, counter: 'afterCommit' | 'beforeCommit') {
  return (email: EmailRef) => {
    if (email.recipient === recipient && injected[counter] === 0) {
      injected[counter] += 1;
      throw new Error(`injected crash (${counter}) for ${recipient}`);
    }
  };
}

let stack: TestStack;

beforeAll(async () => {
  stack = await startTestStack({
    outboxFaults: {
      afterOutboxCommit: once(crashAfterCommit, 'afterCommit'),
      afterSmtpAccepted: once(crashBeforeCommit, 'beforeCommit'),
    },
  });
});

afterAll(async () => {
  await stack?.stop();
});

describe('email outbox under injected crashes (real Temporal, PostgreSQL and maildev)', () => {
  it('when the activity dies after the outbox commit, nothing is sent again; between SMTP acceptance and the commit, the one resend carries the same Message-ID', async () => {
    const staff = await stack.token({ role: 'staff', id: 'e2e' });
    const res = await stack.request('POST', '/api/rounds', {
      token: staff,
      body: { programme: 'demo_university', year: 2027 },
    });
    expect(res.status).toBe(201);

    const universities = universityContacts();
    // Every university once, plus exactly one duplicate for the recipient whose commit was lost.
    const expected = [...universities, crashBeforeCommit].map((to) => ({ to, purpose: 'call_notice' }));
    const emails = await stack.mailbox.waitForCount(expected.length, { settleMs: 2_000 });
    expect(recipientPurposePairs(emails)).toEqual(recipientPurposePairs(expected));
    expect(injected).toEqual({ afterCommit: 1, beforeCommit: 1 });

    const twice = emails.filter((e) => e.to === crashBeforeCommit);
    expect(twice).toHaveLength(2);
    expect(twice[0]!.messageId).toBe(twice[1]!.messageId);
    expect(twice[0]!.idempotencyKey).toBe('round-demo_university-2027/call_notice/zzu');
    expect(emails.filter((e) => e.to === crashAfterCommit)).toHaveLength(1);

    const rows = await stack.database.db('email_outbox').where({ workflow_id: 'round-demo_university-2027' });
    expect(rows).toHaveLength(universities.length);
    expect(rows.every((r: { status: string }) => r.status === 'sent')).toBe(true);
    const attempts = Object.fromEntries(
      rows.map((r: { recipient: string; attempts: number }) => [r.recipient, r.attempts]),
    );
    expect(attempts[crashBeforeCommit]).toBe(2);
    // The retried batch found it recorded as sent and left it alone.
    expect(attempts[crashAfterCommit]).toBe(1);

    const handle = stack.client.workflow.getHandle('round-demo_university-2027');
    const state = await handle.query<{ noticesSent: number }>('getRound');
    expect(state.noticesSent).toBe(universities.length);
  });
});

import { WorkflowNotFoundError, WorkflowUpdateFailedError } from '@temporalio/client';
import { ApplicationFailure } from '@temporalio/common';
import { describe, expect, it } from 'vitest';
import { AppError, fromTemporalError } from '../../api/errors.js';
import { errorCatalogue } from '../../domain/errors.js';

describe('error catalogue and Temporal error mapping', () => {
  it('gives every code a zh-CN title and an HTTP error status', () => {
    for (const [code, entry] of Object.entries(errorCatalogue)) {
      expect(entry.title, code).toMatch(/[\u4e00-\u9fff]/);
      expect(entry.status, code).toBeGreaterThanOrEqual(400);
    }
  });

  it('when an Update is refused by its validator, then the cause’s type picks the code and its message the detail', () => {
    const cause = ApplicationFailure.nonRetryable('申报已于 2027年3月26日 24:00 截止', 'REQUEST_REJECTED');
    const mapped = fromTemporalError(new WorkflowUpdateFailedError('Workflow Update failed', cause));
    expect(mapped).toBeInstanceOf(AppError);
    expect(mapped).toMatchObject({
      code: 'REQUEST_REJECTED',
      status: 409,
      detail: '申报已于 2027年3月26日 24:00 截止',
    });
  });

  it('when a submission arrives after the deadline, then it is a 409 DEADLINE_PASSED that names the deadline', () => {
    const cause = ApplicationFailure.nonRetryable(
      '申报已于 2027年4月13日 24:00 截止（本次接收时间 2027年4月14日 00:00），逾期不予受理',
      'DEADLINE_PASSED',
    );
    expect(fromTemporalError(new WorkflowUpdateFailedError('Workflow Update failed', cause))).toMatchObject({
      status: 409,
      code: 'DEADLINE_PASSED',
      title: '已过提交截止时间',
      detail: expect.stringContaining('2027年4月13日 24:00'),
    });
  });

  it('when the refusal carries an unknown type, then it is still a 409 with the reason kept', () => {
    const cause = ApplicationFailure.nonRetryable('something else', 'SOMETHING_ELSE');
    expect(fromTemporalError(new WorkflowUpdateFailedError('Workflow Update failed', cause))).toMatchObject({
      code: 'REQUEST_REJECTED',
      detail: 'something else',
    });
  });

  it('maps a missing workflow to 404', () => {
    expect(fromTemporalError(new WorkflowNotFoundError('not found', 'round-x-2027', undefined))).toMatchObject({
      code: 'WORKFLOW_NOT_FOUND',
      status: 404,
    });
  });

  it('leaves unrelated errors alone', () => {
    expect(fromTemporalError(new Error('boom'))).toBeUndefined();
  });
});

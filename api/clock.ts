/**
 * The API's clock: it stamps the receipt time of every submission, objection and review. The system clock in
 * production; a test on the time-skipping server gives it that server's time instead.
 */
export type Clock = () => Date;

export const systemClock: Clock = () => new Date();

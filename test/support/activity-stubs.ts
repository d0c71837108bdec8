import type { Activities } from '../../activities/index.js';

/** An activity's name: a key of the object `createActivities` returns (names never change: replay). */
export type ActivityName = keyof Activities;
/** What the workflow hands an activity (every activity takes one object). */
export type ActivityInput<K extends ActivityName> = Parameters<Activities[K]>[0];
/** What the real activity returns. */
export type ActivityOutput<K extends ActivityName> = Awaited<ReturnType<Activities[K]>>;

/** Stand-ins for some activities, typed by the real ones: same input, same result. */
export type Stubs = {
  [K in ActivityName]?: (input: ActivityInput<K>) => ActivityOutput<K> | Promise<ActivityOutput<K>>;
};

export interface ActivityCall {
  name: ActivityName;
  input: unknown;
}

interface Waiter {
  name: ActivityName;
  match: (input: never) => boolean;
  resolve: (input: unknown) => void;
}

/**
 * Stubbed activities for a workflow-level test: each call is recorded (in order, across workflows) and a test
 * can await the call it expects next instead of polling — the worker runs the stub as soon as the workflow
 * schedules it, so the wait ends exactly when the workflow got there.
 */
export class ActivityStubs {
  readonly calls: ActivityCall[] = [];
  private waiters: Waiter[] = [];

  constructor(private readonly stubs: Stubs) {}

  /** The object the Worker registers. */
  activities(): Record<string, (input: unknown) => Promise<unknown>> {
    // No receipt is ever pending unless a test says so: a close does not wait (workflows/receipts.ts).
    const stubs: Stubs = { pendingReceipts: () => [], ...this.stubs };
    return Object.fromEntries(
      Object.entries(stubs).map(([name, stub]) => [
        name,
        async (input: unknown) => {
          const result = await (stub as (i: unknown) => unknown)(input);
          this.record(name as ActivityName, input);
          return result;
        },
      ]),
    );
  }

  /** The inputs of every completed call of one activity, in order. */
  inputsOf<K extends ActivityName>(name: K): ActivityInput<K>[] {
    return this.calls.filter((c) => c.name === name).map((c) => c.input as ActivityInput<K>);
  }

  /** Names of the completed calls, in order (optionally only those listed). */
  names(only?: readonly ActivityName[]): ActivityName[] {
    return this.calls.map((c) => c.name).filter((n) => !only || only.includes(n));
  }

  /** Resolves with the first completed call of `name` matching `match`: one already made, or the next. */
  called<K extends ActivityName>(
    name: K,
    match: (input: ActivityInput<K>) => boolean = () => true,
  ): Promise<ActivityInput<K>> {
    const done = this.inputsOf(name).find(match);
    if (done !== undefined) return Promise.resolve(done);
    return new Promise((resolve) => {
      this.waiters.push({ name, match: match, resolve: resolve as (i: unknown) => void });
    });
  }

  private record(name: ActivityName, input: unknown) {
    this.calls.push({ name, input });
    for (const w of [...this.waiters]) {
      if (w.name === name && w.match(input as never)) {
        this.waiters = this.waiters.filter((x) => x !== w);
        w.resolve(input);
      }
    }
  }
}

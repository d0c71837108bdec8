import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { isDecisionActivity } from '../../activities/decision.js';
import { createActivities, type ActivityDeps } from '../../activities/index.js';
import { projectRoot } from '../support/paths.js';

/** The activity names in the first column of the README's "Crash-proof decisions" table. */
function readmeDecisions(): string[] {
  const readme = fs.readFileSync(path.join(projectRoot, 'README.md'), 'utf8');
  const section = readme.split('### Crash-proof decisions')[1]!.split('\n### ')[0]!;
  return [...section.matchAll(/^\| `(\w+)`/gm)].map((m) => m[1]!);
}

describe('crash-proof decisions', () => {
  it('when the README lists the decision activities with their keys, then the list is exactly those made by decision()', () => {
    // Factories only close over their dependencies; nothing is called here.
    const activities = createActivities({} as ActivityDeps);
    const wrapped = Object.entries(activities)
      .filter(([, fn]) => isDecisionActivity(fn))
      .map(([name]) => name);
    expect(wrapped.length).toBeGreaterThanOrEqual(25);
    expect(readmeDecisions().sort()).toEqual(wrapped.sort());
  });
});

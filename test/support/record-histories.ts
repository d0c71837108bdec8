import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import type { Client } from '@temporalio/client';
import { temporal } from '@temporalio/proto';
import * as prettier from 'prettier';

/** Names the folder the histories are written to; unset (the default), recording does nothing. */
export const RECORD_HISTORIES_ENV = 'RONGHE_RECORD_HISTORIES';

/** A workflow to record: its id (its latest run), or its id and one run. */
export type RecordedWorkflow = string | { workflowId: string; runId?: string };

/**
 * Opt-in recording of replay fixtures (test/replay/): when `RONGHE_RECORD_HISTORIES` names a folder (relative
 * to the working directory), each workflow's history is fetched and written there as
 * `<name>.<commit>.json`, the protobuf JSON of `temporal.api.history.v1.History` that the replay test loads
 * (formatted by Prettier).
 * `<commit>` is the last commit of the code that recorded it (the 7-digit hash of the last commit changing
 * anything outside test/). Without the variable it does nothing.
 *
 * @param fixtures fixture name (its workflow type first, e.g. `showcase-2027`) → the workflow to record
 * @throws when the files outside test/ have uncommitted changes: no commit would name the recording code
 */
export async function recordHistories(client: Client, fixtures: Record<string, RecordedWorkflow>): Promise<void> {
  const folder = process.env[RECORD_HISTORIES_ENV];
  if (!folder) return;
  const commit = recordingCommit();
  fs.mkdirSync(folder, { recursive: true });
  for (const [name, workflow] of Object.entries(fixtures)) {
    const { workflowId, runId } = typeof workflow === 'string' ? { workflowId: workflow, runId: undefined } : workflow;
    const history = await client.workflow.getHandle(workflowId, runId).fetchHistory();
    const json = temporal.api.history.v1.History.fromObject(history).toJSON();
    const file = path.join(folder, `${name}.${commit}.json`);
    // Formatted as the repository formats JSON, so the fixture is committed as written.
    const options = await prettier.resolveConfig(file);
    fs.writeFileSync(file, await prettier.format(JSON.stringify(json, null, 2), { ...options, filepath: file }));
  }
}

/** The short hash of the last commit outside test/, the code a recording ran. */
function recordingCommit(): string {
  const git = (...args: string[]) => execFileSync('git', args, { encoding: 'utf8' }).trim();
  const outsideTests = ['--', '.', ':(exclude)test'];
  const dirty = git('status', '--porcelain', ...outsideTests);
  if (dirty) {
    throw new Error(`${RECORD_HISTORIES_ENV}: commit the changes outside test/ before recording:\n${dirty}`);
  }
  return git('rev-parse', '--short=7', git('log', '-1', '--format=%H', ...outsideTests));
}

import type { Knex } from 'knex';
import * as domainModel from './001_domain_model.js';
import * as callForApplications from './002_call_for_applications.js';
import * as expertReview from './003_expert_review.js';
import * as publicity from './004_publicity.js';
import * as directory from './005_directory.js';
import * as evaluation from './006_evaluation.js';
import * as events from './007_events.js';
import * as lifecycles from './008_lifecycles.js';
import * as decisions from './009_decisions.js';
import * as outboxClaims from './010_outbox_claims.js';
import * as idempotencyKeys from './011_idempotency_keys.js';
import * as idempotencyLocks from './012_idempotency_locks.js';
import * as updateReceipts from './013_update_receipts.js';
import * as peopleByUniversity from './014_people_by_university.js';
import * as accounts from './015_accounts.js';
import * as oidcIdentities from './016_oidc_identities.js';
import * as assignmentLinks from './017_assignment_links.js';
import * as versionAvoidLists from './018_version_avoid_lists.js';
import * as oneAccountPerExpert from './019_one_account_per_expert.js';
import * as referenceVersions from './020_reference_versions.js';
import * as institutionContacts from './021_institution_contacts.js';
import * as expertPool from './022_expert_pool.js';

/**
 * Migrations are listed here rather than discovered on disk, so they load the same way under tsx, vitest
 * and a compiled build. Append new ones; never edit or reorder one that has been released.
 */
const migrations: Record<string, Knex.Migration> = {
  '001_domain_model': domainModel,
  '002_call_for_applications': callForApplications,
  '003_expert_review': expertReview,
  '004_publicity': publicity,
  '005_directory': directory,
  '006_evaluation': evaluation,
  '007_events': events,
  '008_lifecycles': lifecycles,
  '009_decisions': decisions,
  '010_outbox_claims': outboxClaims,
  '011_idempotency_keys': idempotencyKeys,
  '012_idempotency_locks': idempotencyLocks,
  '013_update_receipts': updateReceipts,
  '014_people_by_university': peopleByUniversity,
  '015_accounts': accounts,
  '016_oidc_identities': oidcIdentities,
  '017_assignment_links': assignmentLinks,
  '018_version_avoid_lists': versionAvoidLists,
  '019_one_account_per_expert': oneAccountPerExpert,
  '020_reference_versions': referenceVersions,
  '021_institution_contacts': institutionContacts,
  '022_expert_pool': expertPool,
};

export const migrationSource: Knex.MigrationSource<string> = {
  getMigrations: () => Promise.resolve(Object.keys(migrations)),
  getMigrationName: (name) => name,
  getMigration: (name) => {
    const migration = migrations[name];
    if (!migration) throw new Error(`unknown migration ${name}`);
    return Promise.resolve(migration);
  },
};

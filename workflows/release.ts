/**
 * Workflow behaviour changed since a release, behind one patch per release. Every patch costs a
 * marker event and an upsert of the TemporalChangeVersion search attribute (a write to the server's
 * visibility store) in every workflow that reaches it, so the changes made between two releases
 * share one id: no history recorded between them exists. Histories from before a release keep
 * replaying the behaviour they recorded. Workflow code.
 *
 * A workflow started on a later release is on every earlier one too, so each check asks the newest
 * id first and stops there: a new workflow records one marker, not one per release.
 */
import * as wf from '@temporalio/workflow';

/** True in workflows started on the 2026-12-06 release or later; false when replaying an older history. */
export const sinceRelease2026_12_06 = (): boolean => wf.patched('release-2026-12-06');

/** True in workflows started on the 2026-12 release or later; false when replaying an older history. */
export const sinceRelease2026_12 = (): boolean => sinceRelease2026_12_06() || wf.patched('release-2026-12');

/**
 * Workflow behaviour changed since the last release, behind one patch. Every patch costs a marker
 * event and an upsert of the TemporalChangeVersion search attribute (a write to the server's
 * visibility store) in every workflow that reaches it, so the changes made between two releases
 * share one id: no history recorded between them exists. The next release's changes get the next id;
 * histories from before a release keep replaying the behaviour they recorded. Workflow code.
 */
import * as wf from '@temporalio/workflow';

/** True in workflows started on this release or later; false when replaying an older history. */
export const sinceRelease2026_12 = (): boolean => wf.patched('release-2026-12');

/**
 * Workflow behaviour changed since a release, behind one patch per release. Every patch costs a
 * marker event and an upsert of the TemporalChangeVersion search attribute (a write to the server's
 * visibility store) in every workflow that reaches it, so the changes made between two releases
 * share one id: no history recorded between them exists. Histories from before a release keep
 * replaying the behaviour they recorded. Workflow code.
 *
 * A workflow started on a later release is on every earlier one too, so each check asks the newest
 * id first and stops there: a new workflow records one marker, not one per release.
 *
 * Every task-like workflow asks for the newest release as it starts (its TaskHost builds the approval
 * desk, which asks), before any activity, and keeps the answer for its whole run:
 *   - its marker lands in the first workflow task. A patch asked for the first time right after a
 *     local activity whose run spanned a workflow-task heartbeat does not replay: the SDK learns of
 *     the marker one workflow task too late and calls it a nondeterminism. So a new workflow never
 *     asks for a patch later on, the patches from before the release patches included (legacyPatch);
 *   - a workflow started on an older release keeps that release's behaviour to its end, also when a
 *     new worker carries it on after replaying it.
 * The workflow sandbox evaluates this module afresh for each workflow, so the answer is per workflow.
 */
import * as wf from '@temporalio/workflow';

let newestRelease: boolean | undefined;

/** True in workflows started on the second 2026-12-06 release or later; false when replaying an older history. */
export const sinceRelease2026_12_06_2 = (): boolean => (newestRelease ??= wf.patched('release-2026-12-06.2'));

/** A patch from before the release patches: on in every workflow of the newest release, without a marker of its own. */
export const legacyPatch = (patchId: string): boolean => sinceRelease2026_12_06_2() || wf.patched(patchId);

/** True in workflows started on the 2026-12-06 release or later; false when replaying an older history. */
export const sinceRelease2026_12_06 = (): boolean => sinceRelease2026_12_06_2() || wf.patched('release-2026-12-06');

/** True in workflows started on the 2026-12 release or later; false when replaying an older history. */
export const sinceRelease2026_12 = (): boolean => sinceRelease2026_12_06() || wf.patched('release-2026-12');

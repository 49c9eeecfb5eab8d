/**
 * How a pending approval reads in the Web UI's Current Details (Markdown): the request, how to
 * decide it, and for a file write the change itself. One function for the task, the team and its
 * children. Workflow-safe: pure.
 */
import type { ApprovalRequest } from './task';

/** Diff lines shown in the Web UI; `agent status` shows the whole request. */
const DETAILS_DIFF_LINES = 40;

/** `decideOn` is the task id a person passes to `agent approve` (a team's, for a child's request). */
export function pendingApprovalMarkdown(request: ApprovalRequest, decideOn: string): string {
  const lines = [`**Waiting for approval** \`${request.requestId}\`: ${request.tool} (${request.risk}) — \`agent approve ${decideOn} ${request.requestId}\``];
  const preview = request.preview;
  if (preview) {
    const diff = preview.diff.split('\n');
    const shown = diff.slice(0, DETAILS_DIFF_LINES);
    lines.push(
      `${preview.kind === 'new-file' ? 'New file' : preview.kind === 'overwrite' ? 'Overwrite' : 'Edit'} \`${preview.path}\`: +${preview.added} −${preview.removed}`,
      '```diff',
      ...shown,
      '```',
    );
    if (diff.length > shown.length || preview.truncated) lines.push(`_${diff.length - shown.length} more diff lines: \`agent status ${decideOn}\`_`);
  }
  return lines.join('\n');
}

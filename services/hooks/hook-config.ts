/**
 * Which hooks a task runs: the user's (AGENT_HOME/hooks.json) and the workspace's own
 * (`.agent/hooks.json`, once the user trusted its exact content with `agent trust`), in Claude
 * Code's settings shape, so its `"hooks"` block can be copied as is:
 *
 *   { "hooks": { "PreToolUse": [ { "matcher": "Bash|run_command", "hooks": [ { "type": "command", "command": "./check.sh", "timeout": 30 } ] } ] } }
 *
 * A hook runs in the OS sandbox unless its entry says `"sandbox": false`. A bad entry or an event
 * this runtime does not have is skipped with a notice: hooks add checks, so a broken one never
 * stops a task, and it is said in the trace.
 */
import { loadSettingsLayers, settingsSection, type SettingsLayer } from '../settings-file';
import path from 'node:path';
import { z } from 'zod';
import { HOOK_EVENTS, TOOL_EVENTS, type HookEvent } from '../../domain/hooks';

/** A hook without its own timeout gets this long. */
export const DEFAULT_HOOK_TIMEOUT_SECONDS = 60;

const HookCommand = z.strictObject({
  type: z.literal('command'),
  command: z.string().min(1),
  timeout: z.number().int().min(1).max(600).optional(),
  sandbox: z.boolean().default(true),
});
const HookGroup = z.strictObject({ matcher: z.string().optional(), hooks: z.array(HookCommand).min(1) });

/** One hook command, as a task's snapshot holds it. */
export interface ResolvedHook {
  event: HookEvent;
  /** Tool events only: which tools it runs for (absent: all). */
  matcher?: string;
  command: string;
  timeoutSeconds: number;
  sandbox: boolean;
  source: 'user' | 'workspace';
}

export interface LoadedHooks {
  hooks: ResolvedHook[];
  notices: string[];
}

export const userHooksFile = (home: string): string => path.join(home, 'hooks.json');
export const workspaceHooksFile = (workspace: string): string => path.join(workspace, '.agent', 'hooks.json');

function parseFile(text: string, file: string, source: ResolvedHook['source']): SettingsLayer<ResolvedHook> {
  const section = settingsSection(text, file, 'hooks', 'its hooks do not run', '{"hooks": {"PreToolUse": [{"matcher": "…", "hooks": [{"type": "command", "command": "…"}]}]}}');
  if ('notice' in section) return { items: [], notices: [section.notice] };
  const hooks: ResolvedHook[] = [];
  const notices: string[] = [];
  for (const [event, groups] of Object.entries(section.entries)) {
    if (!(HOOK_EVENTS as readonly string[]).includes(event)) {
      notices.push(`${file}: ${event} hooks skipped: this runtime runs ${HOOK_EVENTS.join(', ')}`);
      continue;
    }
    const parsed = z.array(HookGroup).safeParse(groups);
    if (!parsed.success) {
      notices.push(`${file}: ${event} hooks skipped: ${parsed.error.issues.map((i) => `${i.path.join('.') || 'entry'}: ${i.message}`).join('; ')}`);
      continue;
    }
    for (const group of parsed.data) {
      const matcher = TOOL_EVENTS.includes(event as HookEvent) && group.matcher && group.matcher !== '*' ? group.matcher : undefined;
      if (matcher !== undefined && !validPattern(matcher)) {
        notices.push(`${file}: ${event} hook skipped: its matcher "${matcher}" is not a valid regular expression`);
        continue;
      }
      for (const h of group.hooks) {
        hooks.push({
          event: event as HookEvent,
          ...(matcher !== undefined ? { matcher } : {}),
          command: h.command,
          timeoutSeconds: h.timeout ?? DEFAULT_HOOK_TIMEOUT_SECONDS,
          sandbox: h.sandbox,
          source,
        });
      }
    }
  }
  return { items: hooks, notices };
}

function validPattern(matcher: string): boolean {
  try {
    new RegExp(matcher);
    return true;
  } catch {
    return false;
  }
}

/**
 * The hooks in force for a workspace: the user's, then the workspace's when its file is trusted.
 * Never throws for a bad file. `trusted` answers whether the workspace file's text is the trusted one.
 */
export async function loadHooks(home: string, workspace: string, trusted: (text: string) => Promise<boolean>): Promise<LoadedHooks> {
  const wsFile = workspaceHooksFile(workspace);
  const layers = await loadSettingsLayers(
    { user: userHooksFile(home), workspace: wsFile },
    parseFile,
    trusted,
    (hooks) => `${wsFile} is not trusted, so its ${hooks.length} hook${hooks.length === 1 ? '' : 's'} do not run. Review the file, then run \`agent trust ${workspace}\`.`,
  );
  return { hooks: [...layers.user.items, ...(layers.workspace?.items ?? [])], notices: layers.notices };
}

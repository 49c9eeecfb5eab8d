import { readFileIfExists } from './atomic-file';

/**
 * A settings file in the shape other agents use (`{"mcpServers": {…}}`, `{"hooks": {…}}`): the
 * object under one key, or one line saying why there is none. Such a file adds tools or checks, so
 * a broken one is a notice for the trace, never an error that stops a task.
 */
export type SettingsSection = { entries: Record<string, unknown> } | { notice: string };

/**
 * The object under `key` in a file's JSON text. `unused` says what a broken file means (its servers
 * were not started); `example` shows the shape when the key is missing. Never throws.
 */
export function settingsSection(text: string, file: string, key: string, unused: string, example: string): SettingsSection {
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (err) {
    return { notice: `${file} is not valid JSON (${(err as Error).message}); ${unused}` };
  }
  const entries = (raw as Record<string, unknown> | null)?.[key];
  if (typeof entries !== 'object' || entries === null || Array.isArray(entries)) return { notice: `${file} has no "${key}" object; write ${example}` };
  return { entries: entries as Record<string, unknown> };
}

/** What one settings file configures (its servers, its hooks), and the notices about its entries. */
export interface SettingsLayer<T> {
  items: T[];
  notices: string[];
}

/**
 * The user's file and the workspace's, each parsed by `parse`: the workspace's only when its text is
 * the trusted one (`trusted`); an untrusted file with entries becomes one notice, `untrusted(items)`.
 * `workspace` is null when there is no such file, it is the user's file, or it is not trusted.
 * Never throws for a bad file.
 */
export async function loadSettingsLayers<T>(
  files: { user: string; workspace: string },
  parse: (text: string, file: string, source: 'user' | 'workspace') => SettingsLayer<T>,
  trusted: (text: string) => Promise<boolean>,
  untrusted: (items: T[]) => string,
): Promise<{ user: SettingsLayer<T>; workspace: SettingsLayer<T> | null; notices: string[] }> {
  const userText = await readFileIfExists(files.user);
  const user = userText === null ? { items: [], notices: [] } : parse(userText, files.user, 'user');
  const wsText = files.workspace === files.user ? null : await readFileIfExists(files.workspace);
  if (wsText === null) return { user, workspace: null, notices: user.notices };
  const workspace = parse(wsText, files.workspace, 'workspace');
  if (workspace.items.length && !(await trusted(wsText))) return { user, workspace: null, notices: [...user.notices, untrusted(workspace.items)] };
  return { user, workspace, notices: [...user.notices, ...workspace.notices] };
}

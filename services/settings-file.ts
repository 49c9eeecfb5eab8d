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

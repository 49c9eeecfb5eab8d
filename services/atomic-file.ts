/**
 * The agent's own files. Replacing one so a reader (or a crash) never sees half of it: write a temp
 * file beside it, then rename it over the target. The temp name is unique per call, so two writers
 * of one file, in one process or several, never share (and so never steal) a temp file; the last
 * rename wins. Reading one that may not be there yet.
 */
import { randomUUID } from 'node:crypto';
import { mkdir, readFile, rename, rm, writeFile } from 'node:fs/promises';

/** The file's UTF-8 text, or null when it does not exist; any other failure throws. */
export async function readFileIfExists(file: string): Promise<string | null> {
  try {
    return await readFile(file, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return null;
    throw err;
  }
}
import path from 'node:path';

export async function writeFileAtomic(file: string, data: string, options: { mode?: number; dirMode?: number } = {}): Promise<void> {
  await mkdir(path.dirname(file), { recursive: true, ...(options.dirMode !== undefined ? { mode: options.dirMode } : {}) });
  const tmp = `${file}.${randomUUID()}.tmp`;
  await writeFile(tmp, data, { flag: 'wx', ...(options.mode !== undefined ? { mode: options.mode } : {}) });
  try {
    await rename(tmp, file);
  } catch (err) {
    await rm(tmp, { force: true });
    throw err;
  }
}

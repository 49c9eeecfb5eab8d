/** What every CLI command gets: parsed config, output helpers, and a lazily connected client. */
import os from 'node:os';
import type { TaskClient } from '../client/task-client';
import { loadConfig, terminalEnv, type Config } from '../services/config';

export interface CliContext {
  config: Config;
  json: boolean;
  /** Prints one line for a person; control characters in it are shown, never sent to the terminal. */
  out(line: string): void;
  /** Prints text already made safe with `printable` (it may carry the CLI's own colours). */
  outRaw(line: string): void;
  /** Prints a value as JSON (one object, for scripts). */
  emit(value: unknown): void;
  connect(): Promise<TaskClient>;
}

export function createContext(json: boolean, env?: NodeJS.ProcessEnv): CliContext {
  const config = loadConfig(env);
  let client: TaskClient | null = null;
  return {
    config,
    json,
    out: (line) => process.stdout.write(`${printable(line)}\n`),
    outRaw: (line) => process.stdout.write(`${line}\n`),
    emit: (value) => process.stdout.write(`${JSON.stringify(value, null, 2)}\n`),
    async connect() {
      // Loaded here, not at start-up: the Temporal client and its protobufs take a while to load, and
      // help, usage errors and offline commands never need them.
      client ??= await (await import('../client/task-client')).TaskClient.connect(config);
      return client;
    },
  };
}

/** Who is at this terminal, recorded as the approver of CLI decisions. */
export function localUser(): string {
  try {
    return terminalEnv().user ?? os.userInfo().username;
  } catch {
    return 'cli-user';
  }
}

// C0 controls except tab and newline, DEL, C1 controls, and the bidi overrides that reorder what a
// person reads (a file or a model can hold any of them; a terminal would act on them).
const UNPRINTABLE = /[\u0000-\u0008\u000b-\u001f\u007f-\u009f\u202a-\u202e\u2066-\u2069]/g;

/**
 * Text from files, commands and the model as a terminal may show it: ESC becomes ␛ (the Unicode
 * control pictures), a C1 or bidi character its code (`<U+009B>`). Newlines and tabs stay.
 */
export function printable(text: string): string {
  return text.replace(UNPRINTABLE, (c) => {
    const code = c.charCodeAt(0);
    if (code < 0x20) return String.fromCharCode(0x2400 + code);
    if (code === 0x7f) return '\u2421';
    return `<U+${code.toString(16).toUpperCase().padStart(4, '0')}>`;
  });
}

/** Colour on this stream: only a terminal gets it, and NO_COLOR (https://no-color.org) turns it off. */
export function colourOn(stream: NodeJS.WriteStream): boolean {
  return stream.isTTY === true && !terminalEnv().noColor;
}

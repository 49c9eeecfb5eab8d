/** What every CLI command gets: parsed config, output helpers, and a lazily connected client. */
import os from 'node:os';
import { loadConfig, type Config } from '../services/config';
import { TaskClient } from './task-client';

export interface CliContext {
  config: Config;
  json: boolean;
  out(line: string): void;
  /** Prints a value as JSON (one object, for scripts). */
  emit(value: unknown): void;
  connect(): Promise<TaskClient>;
}

export function createContext(json: boolean, env = process.env): CliContext {
  const config = loadConfig(env);
  let client: TaskClient | null = null;
  return {
    config,
    json,
    out: (line) => process.stdout.write(`${line}\n`),
    emit: (value) => process.stdout.write(`${JSON.stringify(value, null, 2)}\n`),
    async connect() {
      client ??= await TaskClient.connect(config);
      return client;
    },
  };
}

/** Who is at this terminal, recorded as the approver of CLI decisions. */
export function localUser(): string {
  try {
    return process.env.USER || os.userInfo().username;
  } catch {
    return 'cli-user';
  }
}

/**
 * Where rules come from, merged in this order: built-in defaults < user (AGENT_HOME/user-policy.json)
 * < workspace (<workspace>/.agent/policy.json) < task flags < session ("always" answers).
 * A task snapshots builtin, user and workspace rules when it starts, so an edit made during the
 * task (for instance by the agent itself) cannot widen its own permissions.
 */
import { mkdir, readFile, rename, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { z } from 'zod';
import { parseRule, type Rule, type RuleSource } from './rules';

/** Defaults that are safe inside the sandbox: test and lint runners write only build output in the workspace. */
export const BUILTIN_RULES = [
  'allow run_command(npm test *)',
  'allow run_command(npm run test *)',
  'allow run_command(npm run lint *)',
  'allow run_command(pytest *)',
  'allow run_command(go test *)',
  'allow run_command(cargo test *)',
  'allow run_command(make test *)',
  'deny run_command(git push --force *)',
];

const UserPolicyFile = z.object({
  rules: z.array(z.string()).default([]),
  /** "Always" answers, scoped to the workspace they were given in. */
  workspaces: z.record(z.string(), z.array(z.string())).default({}),
});
type UserPolicy = z.infer<typeof UserPolicyFile>;

const WorkspacePolicyFile = z.object({ rules: z.array(z.string()).default([]) });

export class PolicyFileError extends Error {}

async function readJson(file: string): Promise<unknown | null> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return null;
    throw err;
  }
  try {
    return JSON.parse(text);
  } catch (err) {
    throw new PolicyFileError(`${file} is not valid JSON: ${(err as Error).message}`);
  }
}

function parseAll(texts: string[], source: RuleSource, file: string): Rule[] {
  return texts.map((t) => {
    try {
      return parseRule(t, source);
    } catch (err) {
      throw new PolicyFileError(`${file}: ${(err as Error).message}`);
    }
  });
}

/** The user's policy file and the workspace's, read and validated. Throws PolicyFileError on a bad file (fail closed). */
export class PolicySources {
  constructor(private readonly home: string) {}

  get userFile(): string {
    // Not policy.json: with AGENT_HOME = <workspace>/.agent (the default when run from the workspace)
    // the user file and the workspace file must still be two files.
    return path.join(this.home, 'user-policy.json');
  }

  static workspaceFile(workspace: string): string {
    return path.join(workspace, '.agent', 'policy.json');
  }

  async readUser(): Promise<UserPolicy> {
    const raw = await readJson(this.userFile);
    const parsed = UserPolicyFile.safeParse(raw ?? {});
    if (!parsed.success) throw new PolicyFileError(`${this.userFile}: ${parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ')}`);
    return parsed.data;
  }

  /** Builtin, user (global and this workspace's "always" rules) and workspace rules, in source order. */
  async load(workspace: string): Promise<Rule[]> {
    const user = await this.readUser();
    const wsFile = PolicySources.workspaceFile(workspace);
    const wsRaw = await readJson(wsFile);
    const ws = WorkspacePolicyFile.safeParse(wsRaw ?? {});
    if (!ws.success) throw new PolicyFileError(`${wsFile}: ${ws.error.issues.map((i) => i.message).join('; ')}`);
    return [
      ...parseAll(BUILTIN_RULES, 'builtin', 'builtin rules'),
      ...parseAll(user.rules, 'user', this.userFile),
      ...parseAll(user.workspaces[workspace] ?? [], 'user', `${this.userFile} (${workspace})`),
      ...parseAll(ws.data.rules, 'workspace', wsFile),
    ];
  }

  /** Adds rules to the user file, globally or for one workspace. Validates first; idempotent. */
  async add(rules: string[], workspace?: string): Promise<void> {
    parseAll(rules, 'user', 'new rule');
    await this.update((policy) => {
      const list = workspace ? (policy.workspaces[workspace] ??= []) : policy.rules;
      for (const r of rules.map((t) => parseRule(t, 'user').text)) if (!list.includes(r)) list.push(r);
    });
  }

  /** Removes a rule from the user file; returns whether it was there. */
  async remove(rule: string, workspace?: string): Promise<boolean> {
    const text = parseRule(rule, 'user').text;
    let removed = false;
    await this.update((policy) => {
      const lists = workspace ? [policy.workspaces[workspace] ?? []] : [policy.rules, ...Object.values(policy.workspaces)];
      for (const list of lists) {
        const i = list.indexOf(text);
        if (i >= 0) {
          list.splice(i, 1);
          removed = true;
        }
      }
    });
    return removed;
  }

  private async update(change: (policy: UserPolicy) => void): Promise<void> {
    const policy = await this.readUser();
    change(policy);
    await mkdir(path.dirname(this.userFile), { recursive: true });
    const tmp = `${this.userFile}.${process.pid}.tmp`;
    await writeFile(tmp, `${JSON.stringify(policy, null, 2)}\n`);
    await rename(tmp, this.userFile);
  }
}

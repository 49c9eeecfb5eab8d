/**
 * Where rules come from, merged in this order: built-in defaults < user (AGENT_HOME/user-policy.json)
 * < workspace (<workspace>/.agent/policy.json) < task flags < session ("always" answers).
 * A task snapshots builtin, user and workspace rules when it starts, so an edit made during the
 * task (for instance by the agent itself) cannot widen its own permissions.
 *
 * A workspace's own policy file arrives with the repository, so it may always narrow (deny, ask)
 * but widens (allow) only once the user has trusted that exact content: `agent trust [DIR]` records
 * the file's sha256 in the user's agent directory (which no sandbox can read or write), and any
 * change to the file needs trust again. The same trust covers the workspace's other files that start
 * programs: its MCP servers (`.mcp.json`) and its hooks (`.agent/hooks.json`).
 */
import { createHash } from 'node:crypto';
import { readFileIfExists, writeFileAtomic } from '../atomic-file';
import path from 'node:path';
import { z } from 'zod';
import { DEFAULT_NETWORK_RULES } from './network-policy';
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
  ...DEFAULT_NETWORK_RULES,
];

// Strict: a misspelt key ("rule", "deny") would silently drop the rules it meant to add (fail closed).
const UserPolicyFile = z.strictObject({
  rules: z.array(z.string()).default([]),
  /** "Always" answers, scoped to the workspace they were given in. */
  workspaces: z.record(z.string(), z.array(z.string())).default({}),
});
type UserPolicy = z.infer<typeof UserPolicyFile>;

const WorkspacePolicyFile = z.strictObject({ rules: z.array(z.string()).default([]) });

const Sha256 = z.string().regex(/^[0-9a-f]{64}$/);
const TrustFile = z.object({
  /** Workspace real path → the sha256 of each file's content the user trusted (`sha256`: the policy file's, as first recorded). */
  workspaces: z.record(z.string(), z.strictObject({ sha256: Sha256.optional(), trustedAt: z.string(), files: z.record(z.string(), Sha256).optional() })).default({}),
});

/** The workspace's own files that widen what a task may do or start programs; each needs trust in its exact content. */
export const TRUSTED_WORKSPACE_FILES = ['.agent/policy.json', '.mcp.json', '.agent/hooks.json'] as const;
export type TrustedWorkspaceFile = (typeof TRUSTED_WORKSPACE_FILES)[number];
type Trust = z.infer<typeof TrustFile>;

export class PolicyFileError extends Error {}

/** The rules in force for a workspace, and what was left out because its policy file is not trusted. */
export interface PolicySnapshot {
  rules: Rule[];
  /** The workspace file's allow rules, ignored until the user trusts the file. */
  ignored: Rule[];
  /** One line each for the trace and the CLI. */
  notices: string[];
}

export interface WorkspaceTrust {
  file: string;
  exists: boolean;
  trusted: boolean;
  sha256: string | null;
}

function parseJson(text: string | null, file: string): unknown | null {
  if (text === null) return null;
  try {
    return JSON.parse(text);
  } catch (err) {
    throw new PolicyFileError(`${file} is not valid JSON: ${(err as Error).message}`);
  }
}

async function readJson(file: string): Promise<unknown | null> {
  return parseJson(await readFileIfExists(file), file);
}

const sha256 = (text: string) => createHash('sha256').update(text).digest('hex');

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
  /**
   * @param home AGENT_HOME (the user policy file lives there)
   * @param userDir the user's agent directory, where trusted workspace policies are recorded
   */
  constructor(
    private readonly home: string,
    private readonly userDir: string,
  ) {}

  get trustFile(): string {
    return path.join(this.userDir, 'trusted-policies.json');
  }

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

  /** Builtin, user (global and this workspace's "always" rules) and workspace rules in force, in source order. */
  async load(workspace: string): Promise<Rule[]> {
    return (await this.snapshot(workspace)).rules;
  }

  /**
   * The rules in force and what an untrusted workspace policy had to leave out. Throws
   * PolicyFileError on a malformed file (fail closed), trusted or not.
   */
  async snapshot(workspace: string): Promise<PolicySnapshot> {
    const user = await this.readUser();
    const wsFile = PolicySources.workspaceFile(workspace);
    const wsText = await readFileIfExists(wsFile);
    const ws = WorkspacePolicyFile.safeParse(parseJson(wsText, wsFile) ?? {});
    if (!ws.success)
      throw new PolicyFileError(`${wsFile}: ${ws.error.issues.map((i) => i.message).join('; ')} (the file holds only {"rules": ["allow|ask|deny tool(specifier)", …]})`);
    const workspaceRules = parseAll(ws.data.rules, 'workspace', wsFile);
    const trusted = wsText !== null && (await this.isTrusted(workspace, '.agent/policy.json', wsText));
    const ignored = trusted ? [] : workspaceRules.filter((r) => r.effect === 'allow');
    const notices = ignored.length
      ? [
          `${wsFile} is not trusted, so its ${ignored.length} allow rule${ignored.length === 1 ? '' : 's'} (${ignored.map((r) => `\`${r.text}\``).join(', ')}) ` +
            `${ignored.length === 1 ? 'was' : 'were'} ignored; its deny and ask rules apply. Review the file, then run \`agent trust ${workspace}\` to use them.`,
        ]
      : [];
    return {
      rules: [
        ...parseAll(BUILTIN_RULES, 'builtin', 'builtin rules'),
        ...parseAll(user.rules, 'user', this.userFile),
        ...parseAll(user.workspaces[workspace] ?? [], 'user', `${this.userFile} (${workspace})`),
        ...workspaceRules.filter((r) => !ignored.includes(r)),
      ],
      ignored,
      notices,
    };
  }

  /** Whether the workspace has a policy file and whether its current content is trusted. */
  async trustState(workspace: string): Promise<WorkspaceTrust> {
    const file = PolicySources.workspaceFile(workspace);
    const text = await readFileIfExists(file);
    return { file, exists: text !== null, trusted: text !== null && (await this.isTrusted(workspace, '.agent/policy.json', text)), sha256: text === null ? null : sha256(text) };
  }

  /** Whether the user trusted exactly this content of one of the workspace's own files. */
  async isTrusted(workspace: string, file: TrustedWorkspaceFile, text: string): Promise<boolean> {
    const recorded = (await this.readTrust()).workspaces[workspace];
    const hash = sha256(text);
    return recorded?.files?.[file] === hash || (file === '.agent/policy.json' && recorded?.sha256 === hash);
  }

  /**
   * Trusts the current content of the workspace's own files (its policy, MCP servers and hooks),
   * each checked first. Returns each file with its hash. Throws PolicyFileError when there is none
   * or the policy file is malformed.
   */
  async trust(workspace: string): Promise<{ file: string; sha256: string }[]> {
    const found: { name: TrustedWorkspaceFile; file: string; sha256: string }[] = [];
    for (const name of TRUSTED_WORKSPACE_FILES) {
      const file = path.join(workspace, name);
      const text = await readFileIfExists(file);
      if (text === null) continue;
      const json = parseJson(text, file);
      if (name === '.agent/policy.json') {
        const ws = WorkspacePolicyFile.safeParse(json);
        if (!ws.success) throw new PolicyFileError(`${file}: ${ws.error.issues.map((i) => i.message).join('; ')}`);
        parseAll(ws.data.rules, 'workspace', file);
      }
      found.push({ name, file, sha256: sha256(text) });
    }
    if (found.length === 0) throw new PolicyFileError(`nothing to trust in ${workspace}: none of ${TRUSTED_WORKSPACE_FILES.join(', ')} exists`);
    const files = Object.fromEntries(found.map((f) => [f.name, f.sha256]));
    const policyHash = files['.agent/policy.json'];
    await this.updateTrust((t) => void (t.workspaces[workspace] = { ...(policyHash ? { sha256: policyHash } : {}), trustedAt: new Date().toISOString(), files }));
    return found.map(({ file, sha256 }) => ({ file, sha256 }));
  }

  /** Forgets trust in the workspace's policy file; returns whether it was trusted. */
  async untrust(workspace: string): Promise<boolean> {
    let had = false;
    await this.updateTrust((t) => {
      had = workspace in t.workspaces;
      delete t.workspaces[workspace];
    });
    return had;
  }

  private async readTrust(): Promise<Trust> {
    const parsed = TrustFile.safeParse((await readJson(this.trustFile)) ?? {});
    if (!parsed.success) throw new PolicyFileError(`${this.trustFile}: ${parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ')}`);
    return parsed.data;
  }

  private async updateTrust(change: (trust: Trust) => void): Promise<void> {
    const trust = await this.readTrust();
    change(trust);
    await writeFileAtomic(this.trustFile, `${JSON.stringify(trust, null, 2)}\n`, { mode: 0o600, dirMode: 0o700 });
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
    await writeFileAtomic(this.userFile, `${JSON.stringify(policy, null, 2)}\n`);
  }
}

import { describe, expect, it } from 'vitest';
import { canonicalJson } from '../../domain/canonical-json';
import { routeTools } from '../../domain/routing';
import { TaskInputSchema, type Intent, type Plan } from '../../domain/task';

describe('canonicalJson', () => {
  it('is independent of key order at every depth', () => {
    const a = { b: 1, a: { y: [1, { q: 1, p: 2 }], x: 'z' }, c: null };
    const b = { c: null, a: { x: 'z', y: [1, { p: 2, q: 1 }] }, b: 1 };
    expect(canonicalJson(a)).toBe(canonicalJson(b));
    expect(canonicalJson(a)).toBe('{"a":{"x":"z","y":[1,{"p":2,"q":1}]},"b":1,"c":null}');
  });

  it('keeps array order', () => {
    expect(canonicalJson([3, 1, 2])).toBe('[3,1,2]');
    expect(canonicalJson([1, 2])).not.toBe(canonicalJson([2, 1]));
  });

  it('drops undefined properties and turns undefined array items into null, like JSON.stringify', () => {
    expect(canonicalJson({ a: undefined, b: 1 })).toBe('{"b":1}');
    expect(canonicalJson({ a: undefined, b: 1 })).toBe(canonicalJson({ b: 1 }));
    expect(canonicalJson([undefined, 1])).toBe(JSON.stringify([undefined, 1]));
  });

  it('escapes strings and keys the way JSON does', () => {
    const value = { 'ke"y': 'line\nbreak "quoted" ✓' };
    expect(JSON.parse(canonicalJson(value))).toEqual(value);
  });

  it('throws on NaN, Infinity, cycles, functions, symbols and bigints', () => {
    expect(() => canonicalJson({ a: Number.NaN })).toThrow(/non-finite/);
    expect(() => canonicalJson([Infinity])).toThrow(/non-finite/);
    const cyclic: Record<string, unknown> = { a: 1 };
    cyclic.self = { inner: cyclic };
    expect(() => canonicalJson(cyclic)).toThrow(/cyclic/);
    expect(() => canonicalJson({ f: () => 1 })).toThrow(/function/);
    expect(() => canonicalJson(Symbol('s'))).toThrow(/symbol/);
    expect(() => canonicalJson(1n)).toThrow(/bigint/);
  });

  it('accepts a shared (non-cyclic) object referenced twice', () => {
    const shared = { k: 1 };
    expect(canonicalJson({ a: shared, b: [shared] })).toBe('{"a":{"k":1},"b":[{"k":1}]}');
  });
});

describe('routeTools', () => {
  const intent = (needsWrite: boolean, needsShell: boolean): Intent => ({
    goal: 'g',
    kind: 'other',
    needsWrite,
    needsShell,
    summary: 's',
  });
  const plan = (...tools: (string | undefined)[]): Plan => ({ steps: tools.map((tool, i) => ({ title: `step ${i}`, ...(tool ? { tool } : {}) })) });

  const READ_TOOLS = ['file_info', 'forget', 'inspect_environment', 'list_files', 'read_file', 'read_output', 'remember', 'search_files'];

  it('offers only read tools for a read-only task', () => {
    expect(routeTools(intent(false, false), plan(undefined)).sort()).toEqual(READ_TOOLS);
  });

  it('adds the file-editing tools and run_command (with command_status) from the intent', () => {
    expect(routeTools(intent(true, false), plan()).sort()).toEqual([...READ_TOOLS, 'edit_file', 'write_file'].sort());
    expect(routeTools(intent(false, true), plan()).sort()).toEqual([...READ_TOOLS, 'command_status', 'run_command'].sort());
  });

  it('adds a tool the plan names and ignores names that are not tools', () => {
    const tools = routeTools(intent(false, false), plan('run_command', 'rm_rf', 'read_file', 'hasOwnProperty'));
    expect(tools.sort()).toEqual([...READ_TOOLS, 'command_status', 'run_command'].sort());
  });
});

describe('TaskInputSchema', () => {
  it('fills defaults', () => {
    expect(TaskInputSchema.parse({ prompt: '  fix it  ', workspace: '/w' })).toEqual({
      prompt: 'fix it',
      workspace: '/w',
      approvalTimeoutMs: 30 * 60_000,
      maxTurns: 100,
      confirmResult: 'unverified',
      submittedBy: 'cli',
      mode: 'default',
      rules: [],
      approverKeys: [],
    });
  });

  it('rejects an empty or whitespace-only prompt with a readable message', () => {
    for (const prompt of ['', '   \n\t']) {
      const result = TaskInputSchema.safeParse({ prompt, workspace: '/w' });
      expect(result.success).toBe(false);
      expect(result.error!.issues[0]!.message).toBe('the task text is empty');
      expect(result.error!.issues[0]!.path).toEqual(['prompt']);
    }
  });

  it('rejects unknown keys, a missing workspace and out-of-range numbers', () => {
    expect(TaskInputSchema.safeParse({ prompt: 'x', workspace: '/w', extra: 1 }).success).toBe(false);
    expect(TaskInputSchema.safeParse({ prompt: 'x' }).success).toBe(false);
    expect(TaskInputSchema.safeParse({ prompt: 'x', workspace: '/w', approvalTimeoutMs: 999 }).success).toBe(false);
    expect(TaskInputSchema.safeParse({ prompt: 'x', workspace: '/w', maxTurns: 0 }).success).toBe(false);
    expect(TaskInputSchema.safeParse({ prompt: 'x', workspace: '/w', confirmResult: 'sometimes' }).success).toBe(false);
  });
});

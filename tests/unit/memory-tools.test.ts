/** The memory side of the `remember` / `forget` tools, on the embedded PGlite store. */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MemoryInputError } from '../../services/memory/keys';
import { forgetTool, rememberTool } from '../../services/memory/memory-tools';
import { makeWorkspace } from '../support/harness';
import { openTestMemory, type TestMemory } from '../support/memory-db';

let t: TestMemory;
beforeAll(async () => {
  t = await openTestMemory('pglite');
});
afterAll(async () => {
  await t?.close();
});

describe('remember / forget tools', () => {
  it('remember creates, updates with the chain kept, and records the task as provenance', async () => {
    const ctx = { workspace: await makeWorkspace(), user: 'ada', taskId: 'task-tool-1' };
    expect(await rememberTool(t.memory, ctx, { subject: 'deploy', attribute: 'target', value: 'staging' })).toBe('Remembered workspace memory deploy:target = "staging".');
    expect(await rememberTool(t.memory, { ...ctx, taskId: 'task-tool-2' }, { subject: 'Deploy', attribute: 'target', value: 'prod-eu' })).toBe(
      'Updated workspace memory deploy:target to "prod-eu" (was "staging"; the old value stays in its history).',
    );
    expect(await rememberTool(t.memory, ctx, { subject: 'deploy', attribute: 'target', value: 'PROD-EU ' })).toBe(
      'workspace memory deploy:target already holds this value; confirmed it.',
    );
    const chain = await t.memory.history('deploy:target', [`workspace:${ctx.workspace}`]);
    expect(chain.map((i) => [i.value, i.source, i.provenance.taskId])).toEqual([
      ['staging', 'tool', 'task-tool-1'],
      ['prod-eu', 'tool', 'task-tool-2'],
    ]);
  });

  it('forget retires exactly one key in one scope, with the reason', async () => {
    const ctx = { workspace: await makeWorkspace(), user: 'ada', taskId: 'task-tool-3' };
    await rememberTool(t.memory, ctx, { subject: 'cache', attribute: 'dir', value: '.cache' });
    await rememberTool(t.memory, ctx, { subject: 'cache', attribute: 'dir', value: '~/.cache', scope: 'user' });
    await rememberTool(t.memory, ctx, { subject: 'cache', attribute: 'dir-size', value: '2 GB' });
    expect(await forgetTool(t.memory, ctx, { key: 'cache:dir', reason: 'cache moved' })).toBe(
      'Forgot workspace memory cache:dir = ".cache"; it stays in its history with the reason.',
    );
    expect((await t.memory.store.current(`user:ada`, 'cache:dir'))?.value).toBe('~/.cache');
    expect((await t.memory.store.current(`workspace:${ctx.workspace}`, 'cache:dir-size'))?.value).toBe('2 GB');
    const [retired] = await t.memory.history('cache:dir', [`workspace:${ctx.workspace}`]);
    expect(retired!.invalidatedReason).toBe('forgotten: cache moved (forget tool, task task-tool-3)');
    await expect(forgetTool(t.memory, ctx, { key: 'cache:dir', reason: 'again' })).rejects.toThrow('there is no current workspace memory cache:dir to forget');
  });

  it('bad input is a clear error, and nothing is written', async () => {
    const ctx = { workspace: await makeWorkspace(), user: 'ada', taskId: 'task-tool-4' };
    await expect(rememberTool(t.memory, ctx, { subject: 'x', attribute: 'y', value: 'v'.repeat(2_001) })).rejects.toThrow(/invalid remember input: value: Too big/);
    await expect(rememberTool(t.memory, ctx, { subject: 'x', attribute: 'y', value: 'v', scope: 'team' })).rejects.toThrow(MemoryInputError);
    await expect(forgetTool(t.memory, ctx, { key: 'nocolon', reason: 'r' })).rejects.toThrow(/not a memory key/);
    expect(await t.memory.store.list({ scopes: [`workspace:${ctx.workspace}`], limit: 10 })).toEqual([]);
  });
});

/**
 * The Web UI tells the story: headless Chromium opens the real Temporal Web UI, filters the list by
 * the custom search attribute, opens the task, and sees its summary, the live plan and the pending
 * approval in Current Details.
 */
import { existsSync } from 'node:fs';
import { chromium, type Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it, inject } from 'vitest';
import { makeWorkspace, useTaskHarness, waitFor } from '../support/harness';
import { scenario } from '../support/scripts';

const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';

let browser: Browser;

const h = useTaskHarness({
  scenarios: [
    scenario('ui-visible', {
      needsWrite: true,
      intent: { input: { goal: 'g', kind: 'change', needsWrite: true, needsShell: false, summary: 'Rename the widget config' } },
      plan: {
        input: {
          steps: [
            { title: 'Read widget.json', tool: 'read_file' },
            { title: 'Write widget.yaml', tool: 'write_file' },
          ],
        },
      },
      execute: [
        { toolCalls: [{ name: 'read_file', input: { path: 'widget.json' } }] },
        { toolCalls: [{ name: 'write_file', input: { path: 'widget.yaml', content: 'a: 1\n' } }] },
        { text: 'done' },
      ],
    }),
  ],
});

beforeAll(async () => {
  if (!existsSync(CHROMIUM)) throw new Error(`Chromium not found at ${CHROMIUM}: apt-get install chromium (.ci/run does), or set CHROMIUM_PATH`);
  browser = await chromium.launch({
    executablePath: CHROMIUM,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--no-first-run', '--disable-sync'],
  });
});
afterAll(async () => {
  await browser?.close();
});

describe('Temporal Web UI', () => {
  it('finds the waiting task by search attribute and shows its summary, live plan and pending approval', async () => {
    const workspace = await makeWorkspace({ 'widget.json': '{"a":1}\n' });
    const taskId = await h.client.start({ prompt: 'ui-visible: convert widget.json to widget.yaml', workspace });
    await waitFor(async () => (await h.client.status(taskId)).pendingApprovals.length > 0, 'approval');

    const page = await browser.newPage({ viewport: { width: 1920, height: 1200 } });
    try {
      const ui = inject('temporalUiUrl');
      // Tasks are filterable by the custom search attributes: list only those waiting for a human.
      await page.goto(`${ui}/namespaces/default/workflows?query=${encodeURIComponent('AgentPendingApproval = true')}`, { waitUntil: 'domcontentloaded' });
      await page.getByRole('link', { name: taskId }).click({ timeout: 30_000 });
      await page.getByText('User Metadata').first().click({ timeout: 30_000 });
      // The UI renders user Markdown in sandboxed iframes, so read every frame.
      const bodyText = async () =>
        (
          await Promise.all(
            page.frames().map((f) =>
              f
                .locator('body')
                .innerText()
                .catch(() => ''),
            ),
          )
        ).join('\n');
      await expect.poll(bodyText, { timeout: 30_000 }).toMatch(/Current Details[\s\S]*Waiting for approval/);
      const body = await bodyText();
      expect(body).toContain('ui-visible: convert widget.json to widget.yaml'); // static summary
      expect(body).toMatch(/Status:\s*waiting_approval/);
      expect(body).toMatch(/\[x\] Read widget\.json/);
      expect(body).toMatch(/\[ \] Write widget\.yaml/);
      expect(body).toMatch(/Waiting for approval\s*apr-1\s*: write_file \(workspace-write\)/);
      expect(body).toContain(`agent approve ${taskId} apr-1`);
    } finally {
      // Kept for a person to look at when this fails.
      await page.screenshot({ path: `${inject('tmpRoot')}/web-ui.png`, fullPage: true }).catch(() => undefined);
      await page.close();
    }
    await h.client.decide(taskId, undefined, { approve: true, decidedBy: 'ui-test', channel: 'cli' });
    expect((await h.client.result(taskId)).status).toBe('completed');
  });
});

/** Builders for fake-LLM scenarios, so each test states only the turns it is about. */
interface ScenarioOptions {
  needsWrite?: boolean;
  needsShell?: boolean;
  execute: unknown[];
  verifyPassed?: boolean;
  intent?: unknown;
  plan?: unknown;
  respond?: unknown;
}

export function scenario(match: string, options: ScenarioOptions) {
  return {
    match,
    stages: {
      intent: options.intent ?? {
        input: { goal: match, kind: 'change', needsWrite: options.needsWrite ?? false, needsShell: options.needsShell ?? false, summary: match },
      },
      plan: options.plan ?? { input: { steps: [{ title: `do ${match}` }] } },
      execute: options.execute,
      verify: {
        input: {
          passed: options.verifyPassed ?? true,
          evidence: options.verifyPassed === false ? [] : ['scripted evidence'],
          problems: options.verifyPassed === false ? ['scripted problem'] : [],
        },
      },
      respond: options.respond ?? { text: `answer for ${match}` },
    },
  };
}

/** The tool_result blocks the model received at a given execute turn of a task. */
export function toolResultsAt(requests: { task: string; stage: string; turn: number; body: { messages: { content: unknown }[] } }[], task: string, turn: number) {
  const request = requests.find((r) => r.task === task && r.stage === 'execute' && r.turn === turn);
  if (!request) throw new Error(`no execute request at turn ${turn} for ${task}`);
  return request.body.messages.at(-1)!.content as { type: string; tool_use_id: string; content: string; is_error?: boolean }[];
}

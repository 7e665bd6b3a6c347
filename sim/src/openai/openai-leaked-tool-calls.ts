import type { ReplyPlan } from '../rule-model.ts';

/**
 * What a reply looks like when vLLM's tool parser fails to recognise the model's calls: the
 * model's own `<tool_call>` markup arrives as plain text, with no `tool_calls` and finish `stop`.
 * The JSON is written the way Hermes-style chat templates teach models to write it (name first,
 * `", "` and `": "` separators); arguments that are not JSON are copied as they are.
 */
export function leakToolCalls(plan: ReplyPlan): ReplyPlan {
  if (plan.toolCalls.length === 0) return plan;
  const blocks = plan.toolCalls.map(
    (call) =>
      `<tool_call>\n{"name": ${JSON.stringify(call.name)}, "arguments": ${spaced(call.arguments)}}\n</tool_call>`,
  );
  const text = [plan.text, ...blocks].filter((part) => part !== '').join('\n');
  // Without recognised calls vLLM reports a plain stop, whatever the script expected.
  return {
    ...(plan.reasoning ? { reasoning: plan.reasoning } : {}),
    text,
    toolCalls: [],
    ...(plan.finish === 'length' ? { finish: 'length' } : {}),
  };
}

function spaced(args: string): string {
  try {
    return pythonJson(JSON.parse(args));
  } catch {
    return args;
  }
}

function pythonJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(pythonJson).join(', ')}]`;
  if (typeof value === 'object' && value !== null) {
    const entries = Object.entries(value).map(([k, v]) => `${JSON.stringify(k)}: ${pythonJson(v)}`);
    return `{${entries.join(', ')}}`;
  }
  return JSON.stringify(value);
}

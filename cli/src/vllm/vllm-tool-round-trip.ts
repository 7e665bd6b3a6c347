import type { LlmMessage, ToolSpec } from '@tern/shared/llm/llm-types';
import { type CallBase, type CheckResult, clip, collect } from './vllm-collect.ts';
import { type DiagnosisContext, diagnoseLlmError, PRESETS_HINT } from './vllm-diagnosis.ts';

/**
 * A real tool-calling round trip, as an agent turn makes it: offer a tool with `tool_choice`
 * left to the model (the `auto` that needs vLLM's tool parser), expect a call with valid JSON
 * arguments, send its result, expect a final answer in text.
 */

const READ_FILE: ToolSpec = {
  name: 'read_file',
  description: 'Read a text file of the project and return its content.',
  parameters: {
    type: 'object',
    properties: { path: { type: 'string', description: 'Path relative to the project root' } },
    required: ['path'],
    additionalProperties: false,
  },
};

const PATH = 'notes/check.txt';
const SECRET = 'TERN-CHECK-7F3A';

/**
 * Markup that chat templates teach models to write for a call (Hermes/Qwen `<tool_call>`, Llama's
 * `<|python_tag|>`, Mistral's `[TOOL_CALLS]`, Qwen3-Coder's `<function=…>`, gpt-oss's
 * `to=functions.…`, Kimi/DeepSeek section tokens) or the bare JSON of one: seen in `content`, it
 * means the server's parser did not turn it into `tool_calls`.
 */
const LEAKED_CALL =
  /<tool_call>|<\|python_tag\|>|\[TOOL_CALLS\]|<function[=\s]|to=functions\.|<\|tool_calls?_(section_)?begin\|>|"name"\s*:\s*"read_file"/;

const fail = (summary: string, diagnosis: string): CheckResult => ({
  name: 'tool_calling',
  status: 'fail',
  summary,
  diagnosis,
});

export async function checkToolRoundTrip(
  stream: Parameters<typeof collect>[0],
  base: CallBase,
  ctx: DiagnosisContext,
): Promise<CheckResult> {
  const messages: LlmMessage[] = [
    { role: 'system', content: 'You are a coding agent. Use the tools you are given.' },
    {
      role: 'user',
      content: `Use the read_file tool to read ${PATH}, then tell me in one sentence what it says.`,
    },
  ];
  const first = await collect(stream, { ...base, messages, tools: [READ_FILE], maxTokens: 2048 });
  if (first.finish?.error) {
    return fail(
      `the request with a tool failed: ${first.finish.error.message}`,
      diagnoseLlmError(first.finish.error, ctx),
    );
  }
  const call = first.calls[0];
  if (!call) {
    if (LEAKED_CALL.test(first.text)) {
      return fail(
        `the tool call came back as text in content: "${clip(first.text, 80)}"`,
        `--enable-auto-tool-choice / --tool-call-parser missing or wrong for this model (Tern recovers only <tool_call> JSON blocks, and not as a stream); ${PRESETS_HINT}`,
      );
    }
    return fail(
      `the model answered without calling the tool: "${clip(first.text || first.reasoning, 80)}"`,
      `the chat template may not show the model its tools (--chat-template), or the model does not call tools; ${PRESETS_HINT}`,
    );
  }
  if (call.name !== READ_FILE.name) {
    return fail(
      `the model called "${call.name}", not read_file`,
      `the tool-call parser mangles tool names: --tool-call-parser may not match this model; ${PRESETS_HINT}`,
    );
  }
  if (!call.parsed.ok) {
    return fail(
      `the tool call's arguments are not valid: ${call.parsed.message} (raw: ${clip(call.rawArgs, 60)})`,
      `--tool-call-parser may not match this model, or the reply was cut (finish ${first.finish?.reason}); ${PRESETS_HINT}`,
    );
  }

  const second = await collect(stream, {
    ...base,
    tools: [READ_FILE],
    maxTokens: 2048,
    messages: [
      ...messages,
      {
        role: 'assistant',
        content: [{ type: 'tool_call', id: call.id, name: call.name, args: call.parsed.args }],
      },
      {
        role: 'tool',
        toolCallId: call.id,
        toolName: call.name,
        content: `The check passed: ${SECRET}.`,
      },
    ],
  });
  if (second.finish?.error) {
    return fail(
      `sending the tool result failed: ${second.finish.error.message}`,
      diagnoseLlmError(second.finish.error, ctx),
    );
  }
  if (second.calls.length > 0) {
    return fail(
      'after the result the model called a tool again instead of answering',
      `the chat template may not render tool results (--chat-template); ${PRESETS_HINT}`,
    );
  }
  if (second.text.trim() === '') {
    return fail(
      `no answer after the tool result (finish ${second.finish?.reason})`,
      `the chat template may not render tool results (--chat-template); ${PRESETS_HINT}`,
    );
  }
  const echoed = second.text.includes(SECRET) ? ', quoting the result' : '';
  return {
    name: 'tool_calling',
    status: 'ok',
    summary: `read_file(${call.rawArgs}) → answered "${clip(second.text.trim(), 60)}"${echoed}`,
  };
}

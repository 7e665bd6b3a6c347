/**
 * The simulator's "model": a pure, deterministic function from a conversation to a reply plan.
 * It is wire-neutral (each wire API translates its request into `ModelRequest` and the plan back
 * into its own events), and its rules are just rich enough to drive an agent loop end to end:
 * ask for a file, get a tool call; return the file, get a summary quoting it.
 */

export type ModelMessage =
  | { role: 'system' | 'user' | 'assistant'; text: string }
  /** `toolName` and `toolPath` come from the assistant tool call this result answers, if found. */
  | { role: 'tool'; text: string; toolName?: string; toolPath?: string };

export interface ModelRequest {
  messages: readonly ModelMessage[];
  /** Names of the function tools the model may call (empty when tool choice is `none`). */
  toolNames: readonly string[];
  /**
   * Whether the reply should think first. Each wire decides from its own request (OpenAI's
   * `reasoning_effort`, a vLLM reasoning dialect, Anthropic's `thinking`, Gemini's thinking config).
   */
  reasoning?: boolean;
}

export interface PlannedToolCall {
  name: string;
  /** The arguments as JSON text, exactly as they will be streamed. */
  arguments: string;
}

export type PlannedFinish = 'stop' | 'length' | 'tool_calls';

/**
 * Reasoning is streamed first, then text, then tool calls; a plan with tool calls finishes with
 * `tool_calls` unless `finish` says otherwise.
 */
export interface ReplyPlan {
  /** Thinking streamed before the answer (reasoning models); empty for none. */
  reasoning?: string;
  text: string;
  toolCalls: PlannedToolCall[];
  /** Forces the finish reason (scripted scenarios); a token budget or stop sequence still wins. */
  finish?: PlannedFinish;
}

const PATH_LIKE = /[\w./-]+\.[A-Za-z0-9]+/;
const WANTS_LISTING = /\b(list|files)\b/i;
const ECHO_LIMIT = 300;
const EXCERPT_LIMIT = 200;
const LONG_ANSWER_CHUNKS = 300;
const CLOSING =
  " I am Tern's built-in simulated model, so this reply is canned; configure a provider key to talk to a real model.";
const FILLER =
  'the quick brown fox jumps over the lazy dog while a patient agent reads every file twice and writes tests first'.split(
    ' ',
  );

export function planReply(request: ModelRequest): ReplyPlan {
  const plan = planAnswer(request);
  return request.reasoning ? { reasoning: reasonAbout(plan, request), ...plan } : plan;
}

function planAnswer(request: ModelRequest): ReplyPlan {
  const last = request.messages.at(-1);
  if (last?.role === 'tool') return { text: summariseToolResults(request.messages), toolCalls: [] };
  if (last?.role === 'user') {
    const toolCalls = planToolCalls(last.text, request.toolNames);
    if (toolCalls.length > 0) return { text: '', toolCalls };
  }
  return { text: echo(lastUserText(request.messages)), toolCalls: [] };
}

/**
 * One short sentence per decision the rules took, so a test can tell from the reasoning alone
 * which branch ran, and the same request always thinks the same thoughts.
 */
function reasonAbout(plan: ReplyPlan, request: ModelRequest): string {
  if (request.messages.at(-1)?.role === 'tool') {
    return 'The tool has answered, so I will quote the first line of its result.';
  }
  if (plan.toolCalls.length === 0) return 'No tool fits this message, so I will answer directly.';
  return plan.toolCalls
    .map((call) =>
      call.name === 'list_files'
        ? 'The user asked about the files, so I will list them.'
        : `The user mentioned ${pathArgument(call.arguments)}, so I will read it with ${call.name}.`,
    )
    .join(' ');
}

function pathArgument(args: string): string {
  const parsed: unknown = JSON.parse(args);
  return typeof parsed === 'object' && parsed !== null && 'path' in parsed
    ? String(parsed.path)
    : 'a file';
}

function planToolCalls(userText: string, toolNames: readonly string[]): PlannedToolCall[] {
  const calls: PlannedToolCall[] = [];
  if (toolNames.includes('list_files') && WANTS_LISTING.test(userText)) {
    calls.push({ name: 'list_files', arguments: JSON.stringify({ path: '.' }) });
  }
  const path = PATH_LIKE.exec(userText)?.[0];
  if (toolNames.includes('read_file') && path !== undefined) {
    calls.push({ name: 'read_file', arguments: JSON.stringify({ path }) });
  }
  return calls;
}

/**
 * Summarises every tool result since the last assistant turn (parallel calls return several). The
 * first line of each result is quoted verbatim, whatever its length, so tests can assert on it; the
 * excerpt then continues with the rest, whitespace collapsed, up to 200 characters.
 */
function summariseToolResults(messages: readonly ModelMessage[]): string {
  const results: Extract<ModelMessage, { role: 'tool' }>[] = [];
  for (let i = messages.length - 1; i >= 0; i--) {
    const message = messages[i];
    if (message?.role !== 'tool') break;
    results.unshift(message);
  }
  return results
    .map(
      (r) => `I read ${r.toolPath ?? r.toolName ?? 'the tool result'}. It says: ${excerpt(r.text)}`,
    )
    .join(' ');
}

function excerpt(text: string): string {
  const newline = text.indexOf('\n');
  const firstLine = (newline === -1 ? text : text.slice(0, newline)).replace(/\r$/, '');
  const rest =
    newline === -1
      ? ''
      : text
          .slice(newline + 1)
          .replace(/\s+/g, ' ')
          .trim();
  const room = EXCERPT_LIMIT - firstLine.length - 1;
  if (rest === '' || room <= 0) return firstLine;
  return rest.length <= room ? `${firstLine} ${rest}` : `${firstLine} ${rest.slice(0, room)}…`;
}

function lastUserText(messages: readonly ModelMessage[]): string {
  for (let i = messages.length - 1; i >= 0; i--) {
    const message = messages[i];
    if (message?.role === 'user') return message.text;
  }
  return '';
}

function echo(userText: string): string {
  const said = userText.length > ECHO_LIMIT ? `${userText.slice(0, ECHO_LIMIT)}…` : userText;
  const reply = `You said: ${said}${CLOSING}`;
  return /\blong answer\b/i.test(userText) ? padToChunks(reply, LONG_ANSWER_CHUNKS) : reply;
}

/** Extends a reply with filler words until it streams as `chunks` word chunks (for benchmarks). */
function padToChunks(reply: string, chunks: number): string {
  const have = reply.match(/\s*\S+/g)?.length ?? 0;
  const words: string[] = [];
  for (let i = 0; i < chunks - have; i++) words.push(FILLER[i % FILLER.length] ?? 'word');
  return words.length === 0 ? reply : `${reply} ${words.join(' ')}`;
}

import type { PendingInput, SessionDetail, SessionSummary } from '@tern/shared/protocol/api';
import type { EventEnvelope, SessionEvent } from '@tern/shared/protocol/events';
import type { FinishReason, LogEntry, Usage } from '@tern/shared/session/log-entry';
import { compareEventIds, NO_EVENT_ID } from './event-id';

export type ToolStatus = 'pending' | 'running' | 'ok' | 'error';

export type UserItem = { kind: 'user'; key: string; turnId: string; text: string };

export type AssistantItem = {
  kind: 'assistant';
  key: string;
  turnId: string;
  text: string;
  reasoning: string;
  /** True while deltas arrive; the committed `assistant_message` entry ends it. */
  streaming: boolean;
  model: string | null;
  finishReason: FinishReason | null;
  usage: Usage | null;
};

export type ToolItem = {
  kind: 'tool';
  key: string;
  turnId: string;
  callId: string;
  name: string;
  /** Parsed arguments once the call is committed; `argsText` while the model still writes them. */
  args: Record<string, unknown> | null;
  argsText: string;
  status: ToolStatus;
  output: string | null;
  durationMs: number | null;
};

export type NoticeItem = {
  kind: 'notice';
  key: string;
  turnId: string;
  tone: 'error' | 'interrupted' | 'retry';
  code: string | null;
  message: string;
};

export type TurnEndItem = {
  kind: 'turn_end';
  key: string;
  turnId: string;
  reason: FinishReason;
  usage: Usage;
  steps: number;
};

export type TranscriptItem = UserItem | AssistantItem | ToolItem | NoticeItem | TurnEndItem;

export type TranscriptState = {
  sessionId: string | null;
  session: SessionSummary | null;
  items: TranscriptItem[];
  /** Inputs accepted by the API that no turn has picked up yet. */
  pending: PendingInput[];
  runningTurnId: string | null;
  /** Last applied event id: the `after` cursor for (re)subscribing. */
  lastEventId: string;
  /** Highest log seq applied; entries at or below it are replays. */
  lastSeq: number;
  /** Input seqs already shown as user messages, so a late 202 does not queue them again. */
  seenInputSeqs: number[];
};

export type TranscriptAction =
  | { type: 'reset'; sessionId: string | null }
  | { type: 'loaded'; detail: SessionDetail }
  | { type: 'event'; envelope: EventEnvelope }
  | { type: 'queued'; input: PendingInput };

export function emptyTranscript(sessionId: string | null = null): TranscriptState {
  return {
    sessionId,
    session: null,
    items: [],
    pending: [],
    runningTurnId: null,
    lastEventId: NO_EVENT_ID,
    lastSeq: 0,
    seenInputSeqs: [],
  };
}

function findLiveBubble(items: TranscriptItem[], turnId: string): number {
  return items.findIndex((i) => i.kind === 'assistant' && i.streaming && i.turnId === turnId);
}

function findTool(items: TranscriptItem[], callId: string): number {
  return items.findIndex((i) => i.kind === 'tool' && i.callId === callId);
}

function replaceAt<T>(list: T[], index: number, value: T): T[] {
  const next = list.slice();
  next[index] = value;
  return next;
}

/** Ends the live bubble of a turn that stopped without a final message (error, interrupt). */
function closeLiveBubble(items: TranscriptItem[], turnId: string): TranscriptItem[] {
  const index = findLiveBubble(items, turnId);
  if (index < 0) return items;
  const bubble = items[index] as AssistantItem;
  return replaceAt(items, index, { ...bubble, streaming: false });
}

function applyEntry(state: TranscriptState, entry: LogEntry): TranscriptState {
  if (entry.seq <= state.lastSeq) return state;
  const next = { ...state, lastSeq: entry.seq };
  const key = `seq-${entry.seq}`;
  switch (entry.kind) {
    case 'user_message':
      return {
        ...next,
        items: [...state.items, { kind: 'user', key, turnId: entry.turnId, text: entry.text }],
        pending: state.pending.filter((p) => p.inputSeq !== entry.inputSeq),
        seenInputSeqs: [...state.seenInputSeqs, entry.inputSeq],
      };
    case 'assistant_message': {
      let items = state.items;
      const live = findLiveBubble(items, entry.turnId);
      const final: AssistantItem = {
        kind: 'assistant',
        // Keeping the live bubble's key lets React update it in place instead of remounting.
        key: live >= 0 ? (items[live] as AssistantItem).key : key,
        turnId: entry.turnId,
        text: entry.text,
        reasoning: entry.reasoning || (live >= 0 ? (items[live] as AssistantItem).reasoning : ''),
        streaming: false,
        model: entry.model,
        finishReason: entry.finishReason,
        usage: entry.usage,
      };
      const visible = final.text !== '' || final.reasoning !== '';
      if (live >= 0) {
        items = visible ? replaceAt(items, live, final) : items.filter((_, i) => i !== live);
      } else if (visible) {
        items = [...items, final];
      }
      // The committed calls are authoritative for arguments; cards already opened by
      // `tool_call_delta` keep their place.
      for (const call of entry.toolCalls) {
        const index = findTool(items, call.id);
        if (index >= 0) {
          const card = items[index] as ToolItem;
          items = replaceAt(items, index, { ...card, name: call.name, args: call.args });
        } else {
          items = [...items, newToolCard(entry.turnId, call.id, call.name, call.args, 'pending')];
        }
      }
      return { ...next, items };
    }
    case 'tool_started': {
      const index = findTool(state.items, entry.callId);
      if (index >= 0) {
        const card = state.items[index] as ToolItem;
        const updated: ToolItem = {
          ...card,
          name: entry.name,
          args: entry.args,
          status: 'running',
        };
        return { ...next, items: replaceAt(state.items, index, updated) };
      }
      const card = newToolCard(entry.turnId, entry.callId, entry.name, entry.args, 'running');
      return { ...next, items: [...state.items, card] };
    }
    case 'tool_finished': {
      const index = findTool(state.items, entry.callId);
      const base =
        index >= 0
          ? (state.items[index] as ToolItem)
          : newToolCard(entry.turnId, entry.callId, entry.name, null, 'running');
      const updated: ToolItem = {
        ...base,
        status: entry.ok ? 'ok' : 'error',
        output: entry.output,
        durationMs: entry.durationMs,
      };
      const items = index >= 0 ? replaceAt(state.items, index, updated) : [...state.items, updated];
      return { ...next, items };
    }
    case 'model_changed': {
      const notice: NoticeItem = {
        kind: 'notice',
        key,
        turnId: entry.turnId,
        tone: 'retry',
        code: null,
        message: `Model changed from ${entry.from} to ${entry.to}.`,
      };
      return { ...next, items: [...state.items, notice] };
    }
    case 'approval_requested':
    case 'approval_decided':
    case 'compaction': {
      const message =
        entry.kind === 'approval_requested'
          ? `Waiting for approval of ${entry.tool}: ${entry.reason}.`
          : entry.kind === 'approval_decided'
            ? `${entry.by} ${entry.decision === 'approve' ? 'approved' : 'denied'} a tool call${entry.reason ? `: ${entry.reason}` : ''}.`
            : 'Earlier messages were summarised to fit the model’s context.';
      const notice: NoticeItem = {
        kind: 'notice',
        key,
        turnId: entry.turnId,
        tone: 'retry',
        code: null,
        message,
      };
      return { ...next, items: [...state.items, notice] };
    }
    case 'interrupted':
    case 'error': {
      const notice: NoticeItem = {
        kind: 'notice',
        key,
        turnId: entry.turnId,
        tone: entry.kind === 'error' ? 'error' : 'interrupted',
        code: entry.kind === 'error' ? entry.code : null,
        message: entry.kind === 'error' ? entry.message : entry.reason,
      };
      return { ...next, items: [...closeLiveBubble(state.items, entry.turnId), notice] };
    }
  }
}

function newToolCard(
  turnId: string,
  callId: string,
  name: string,
  args: Record<string, unknown> | null,
  status: ToolStatus,
): ToolItem {
  return {
    kind: 'tool',
    key: `tool-${callId}`,
    turnId,
    callId,
    name,
    args,
    argsText: '',
    status,
    output: null,
    durationMs: null,
  };
}

function appendDelta(
  state: TranscriptState,
  turnId: string,
  eventId: string,
  field: 'text' | 'reasoning',
  text: string,
): TranscriptState {
  const index = findLiveBubble(state.items, turnId);
  if (index >= 0) {
    const bubble = state.items[index] as AssistantItem;
    const updated = { ...bubble, [field]: bubble[field] + text };
    return { ...state, items: replaceAt(state.items, index, updated) };
  }
  const bubble: AssistantItem = {
    kind: 'assistant',
    key: `live-${eventId}`,
    turnId,
    text: field === 'text' ? text : '',
    reasoning: field === 'reasoning' ? text : '',
    streaming: true,
    model: null,
    finishReason: null,
    usage: null,
  };
  return { ...state, items: [...state.items, bubble] };
}

function withSessionStatus(
  state: TranscriptState,
  status: SessionSummary['status'],
): SessionSummary | null {
  return state.session ? { ...state.session, status } : null;
}

function applyEvent(state: TranscriptState, id: string, event: SessionEvent): TranscriptState {
  switch (event.type) {
    case 'turn_started':
      return {
        ...state,
        runningTurnId: event.turnId,
        session: withSessionStatus(state, 'running'),
      };
    case 'text_delta':
      return appendDelta(state, event.turnId, id, 'text', event.text);
    case 'reasoning_delta':
      return appendDelta(state, event.turnId, id, 'reasoning', event.text);
    case 'tool_call_delta': {
      // `argsText` is a fragment, like `text_delta`; the committed call replaces it anyway.
      const index = findTool(state.items, event.callId);
      if (index >= 0) {
        const card = state.items[index] as ToolItem;
        const updated = {
          ...card,
          name: event.name || card.name,
          argsText: card.argsText + event.argsText,
        };
        return { ...state, items: replaceAt(state.items, index, updated) };
      }
      const card = newToolCard(event.turnId, event.callId, event.name, null, 'pending');
      return { ...state, items: [...state.items, { ...card, argsText: event.argsText }] };
    }
    case 'entry':
      return applyEntry(state, event.entry);
    case 'turn_state':
      return state;
    case 'stream_discarded': {
      // The live text will never be committed: drop it rather than leave a ghost bubble.
      const index = findLiveBubble(state.items, event.turnId);
      if (index < 0) return state;
      return { ...state, items: state.items.filter((_, i) => i !== index) };
    }
    case 'hook_warning': {
      const notice: NoticeItem = {
        kind: 'notice',
        key: `hook-${id}`,
        turnId: event.turnId,
        tone: 'retry',
        code: event.problem,
        message: `${event.message} (${event.action}).`,
      };
      return { ...state, items: [...state.items, notice] };
    }
    case 'turn_paused':
      return {
        ...state,
        items: closeLiveBubble(state.items, event.turnId),
        runningTurnId: state.runningTurnId === event.turnId ? null : state.runningTurnId,
        session: withSessionStatus(state, 'idle'),
      };
    case 'model_retry': {
      const notice: NoticeItem = {
        kind: 'notice',
        key: `retry-${id}`,
        turnId: event.turnId,
        tone: 'retry',
        code: event.code,
        message: `The model call failed (${event.message}); retrying in ${(event.delayMs / 1000).toFixed(1)} s (attempt ${event.attempt + 1}).`,
      };
      return { ...state, items: [...state.items, notice] };
    }
    case 'turn_finished': {
      const end: TurnEndItem = {
        kind: 'turn_end',
        key: `end-${id}`,
        turnId: event.turnId,
        reason: event.reason,
        usage: event.usage,
        steps: event.steps,
      };
      // A queued input whose turn ended without a user message (rejected, cancelled) is no
      // longer pending.
      const pending = state.pending.filter((p) => p.turnId !== event.turnId);
      return {
        ...state,
        items: [...closeLiveBubble(state.items, event.turnId), end],
        pending,
        runningTurnId: state.runningTurnId === event.turnId ? null : state.runningTurnId,
        session: withSessionStatus(state, pending.length > 0 ? 'queued' : 'idle'),
      };
    }
  }
}

/**
 * Folds a session's transcript (from `GET /v1/sessions/:id`) and its live events into what the
 * chat shows. Pure, so that replays, duplicates and reconnects can be tested without a browser.
 */
export function transcriptReducer(
  state: TranscriptState,
  action: TranscriptAction,
): TranscriptState {
  switch (action.type) {
    case 'reset':
      return emptyTranscript(action.sessionId);
    case 'loaded': {
      const { detail } = action;
      let next: TranscriptState = {
        ...emptyTranscript(detail.session.id),
        session: detail.session,
        pending: detail.pending,
        lastEventId: detail.lastEventId,
      };
      for (const entry of detail.entries) next = applyEntry(next, entry);
      return next;
    }
    case 'event': {
      const { envelope } = action;
      if (envelope.sessionId !== state.sessionId) return state;
      if (compareEventIds(envelope.id, state.lastEventId) <= 0) return state;
      return { ...applyEvent(state, envelope.id, envelope.event), lastEventId: envelope.id };
    }
    case 'queued': {
      const { input } = action;
      if (state.seenInputSeqs.includes(input.inputSeq)) return state;
      if (state.pending.some((p) => p.inputSeq === input.inputSeq)) return state;
      const pending = [...state.pending, input].sort((a, b) => a.inputSeq - b.inputSeq);
      const status = state.session?.status === 'running' ? 'running' : 'queued';
      return { ...state, pending, session: withSessionStatus(state, status) };
    }
  }
}

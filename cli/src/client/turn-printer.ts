import type { SessionEvent } from '@tern/shared/protocol/events';

export type Out = { write(text: string): void };

/** Renders a turn's events for a terminal: text as it streams, tool calls as short lines. */
export function printEvent(event: SessionEvent, out: Out, err: Out): void {
  switch (event.type) {
    case 'text_delta':
      out.write(event.text);
      break;
    case 'entry': {
      const entry = event.entry;
      if (entry.kind === 'tool_started') {
        err.write(`\n  ⚙ ${entry.name}(${JSON.stringify(entry.args)})\n`);
      } else if (entry.kind === 'tool_finished') {
        const first = entry.output.split('\n')[0]?.slice(0, 100) ?? '';
        err.write(`  ${entry.ok ? '✓' : '✗'} ${entry.name}: ${first}\n`);
      } else if (entry.kind === 'approval_requested') {
        err.write(
          `\n  ⏸ ${entry.tool}(${JSON.stringify(entry.args)}) needs approval (${entry.reason}):\n` +
            `    POST /v1/sessions/<session>/approvals/${entry.callId} {"approve": true|false}\n`,
        );
      } else if (entry.kind === 'error') {
        err.write(`\n  error ${entry.code}: ${entry.message}\n`);
      }
      break;
    }
    case 'turn_finished':
      out.write('\n');
      break;
    default:
      break;
  }
}

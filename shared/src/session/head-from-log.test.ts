import { describe, expect, it } from 'vitest';
import { turnCommits } from '../../../test/helpers/session-fixtures.ts';
import { headFromLog } from './head-from-log.ts';

describe('head from log', () => {
  it('counts finished turns as done', () => {
    const entries = [...turnCommits(1, 1, 2), ...turnCommits(2, 6, 5)].flat();
    const head = headFromLog(entries);
    expect(head).toMatchObject({ lastSeq: 10, epoch: 5, inputSeq: 2, doneInputSeq: 2 });
    expect(head.inputs.get(2)?.text).toBe(entries[5]?.kind === 'user_message' && entries[5].text);
  });

  it('leaves a turn cut short pending, to be resumed', () => {
    const entries = [...turnCommits(1, 1).flat(), ...turnCommits(2, 6).flat().slice(0, 3)];
    expect(headFromLog(entries)).toMatchObject({ lastSeq: 8, inputSeq: 2, doneInputSeq: 1 });
  });

  it('ignores steering messages as inputs', () => {
    const entries = turnCommits(1, 1).flat();
    const steer = {
      ...entries[0]!,
      seq: 6,
      kind: 'user_message' as const,
      text: 's',
      inputSeq: 1,
      steer: true,
    };
    expect(headFromLog([...entries, steer]).inputs.get(1)?.text).not.toBe('s');
  });
});

/**
 * Unified diffs in git's format (`git apply` and `patch -p1` take them): Myers' O((N+M)·D)
 * line diff, hunks with three lines of context, `--- /dev/null` for a created file and
 * `+++ /dev/null` for a deleted one, and `\ No newline at end of file` where a file ends without
 * one. Paths are written as given: relative, POSIX, and (as Tern's checks guarantee) without
 * newlines.
 */

type Edit = { op: ' ' | '-' | '+'; line: string };

/** Lines with their terminators, so that a missing final newline is a difference too. */
function splitLines(text: string): string[] {
  const lines = text.split(/(?<=\n)/);
  return lines.at(-1) === '' ? lines.slice(0, -1) : lines;
}

/** Beyond this many differences, a replace-everything diff is as useful and far cheaper. */
const MAX_EDIT_DISTANCE = 20_000;

export function diffLines(a: readonly string[], b: readonly string[]): Edit[] {
  const n = a.length;
  const m = b.length;
  const max = Math.min(n + m, MAX_EDIT_DISTANCE);
  const offset = max + 1;
  const v = new Int32Array(2 * max + 3);
  const trace: Int32Array[] = [];
  for (let d = 0; d <= max; d++) {
    trace.push(v.slice());
    for (let k = -d; k <= d; k += 2) {
      let x =
        k === -d || (k !== d && v[offset + k - 1]! < v[offset + k + 1]!)
          ? v[offset + k + 1]!
          : v[offset + k - 1]! + 1;
      let y = x - k;
      while (x < n && y < m && a[x] === b[y]) {
        x++;
        y++;
      }
      v[offset + k] = x;
      if (x >= n && y >= m) return backtrack(a, b, trace, offset);
    }
  }
  return [
    ...a.map((line) => ({ op: '-' as const, line })),
    ...b.map((line) => ({ op: '+' as const, line })),
  ];
}

function backtrack(
  a: readonly string[],
  b: readonly string[],
  trace: Int32Array[],
  offset: number,
): Edit[] {
  const edits: Edit[] = [];
  let x = a.length;
  let y = b.length;
  for (let d = trace.length - 1; d >= 0; d--) {
    const v = trace[d]!;
    const k = x - y;
    const prevK = k === -d || (k !== d && v[offset + k - 1]! < v[offset + k + 1]!) ? k + 1 : k - 1;
    const prevX = v[offset + prevK]!;
    const prevY = prevX - prevK;
    while (x > prevX && y > prevY) {
      edits.push({ op: ' ', line: a[x - 1]! });
      x--;
      y--;
    }
    if (d > 0) {
      if (x === prevX) edits.push({ op: '+', line: b[y - 1]! });
      else edits.push({ op: '-', line: a[x - 1]! });
    }
    x = prevX;
    y = prevY;
  }
  return edits.reverse();
}

/**
 * The diff of one file between `before` and `after` (null: the file does not exist on that
 * side), or '' when they are equal.
 */
export function unifiedDiff(
  path: string,
  before: string | null,
  after: string | null,
  context = 3,
): string {
  if (before === after || (before === null && after === null)) return '';
  const edits = diffLines(splitLines(before ?? ''), splitLines(after ?? ''));
  const header = [`diff --git a/${path} b/${path}`];
  if (before === null) header.push('new file mode 100644');
  if (after === null) header.push('deleted file mode 100644');
  header.push(before === null ? '--- /dev/null' : `--- a/${path}`);
  header.push(after === null ? '+++ /dev/null' : `+++ b/${path}`);
  const hunks = toHunks(edits, context);
  if (hunks.length === 0) return '';
  return `${header.join('\n')}\n${hunks.join('')}`;
}

function toHunks(edits: readonly Edit[], context: number): string[] {
  // Old and new line numbers (1-based) at each edit.
  const at: Array<{ old: number; new: number }> = [];
  let oldLine = 1;
  let newLine = 1;
  for (const edit of edits) {
    at.push({ old: oldLine, new: newLine });
    if (edit.op !== '+') oldLine++;
    if (edit.op !== '-') newLine++;
  }
  const changed = edits.flatMap((e, i) => (e.op === ' ' ? [] : [i]));
  const hunks: string[] = [];
  let i = 0;
  while (i < changed.length) {
    const start = Math.max(0, changed[i]! - context);
    let end = changed[i]!;
    // Changes closer than twice the context share a hunk.
    while (i + 1 < changed.length && changed[i + 1]! - end <= 2 * context) end = changed[++i]!;
    const stop = Math.min(edits.length, end + context + 1);
    i++;
    const slice = edits.slice(start, stop);
    const oldCount = slice.filter((e) => e.op !== '+').length;
    const newCount = slice.filter((e) => e.op !== '-').length;
    const oldStart = oldCount === 0 ? at[start]!.old - 1 : at[start]!.old;
    const newStart = newCount === 0 ? at[start]!.new - 1 : at[start]!.new;
    let body = `@@ -${range(oldStart, oldCount)} +${range(newStart, newCount)} @@\n`;
    for (const edit of slice) {
      body += `${edit.op}${edit.line}`;
      if (!edit.line.endsWith('\n')) body += '\n\\ No newline at end of file\n';
    }
    hunks.push(body);
  }
  return hunks;
}

function range(start: number, count: number): string {
  return count === 1 ? `${start}` : `${start},${count}`;
}

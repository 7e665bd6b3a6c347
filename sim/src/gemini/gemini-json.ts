/**
 * Google's two JSON styles, copied so byte-level tests see what the real API sends: SSE events are
 * one line with a space after each colon and none after commas (`{"a": 1,"b": [2,3]}`), and whole
 * bodies (errors, non-streamed replies) are indented by two spaces and end with a newline.
 */
export function compactGoogleJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(compactGoogleJson).join(',')}]`;
  if (typeof value === 'object' && value !== null) {
    const entries = Object.entries(value).filter(([, v]) => v !== undefined);
    return `{${entries.map(([k, v]) => `${JSON.stringify(k)}: ${compactGoogleJson(v)}`).join(',')}}`;
  }
  return JSON.stringify(value) ?? 'null';
}

export function prettyGoogleJson(value: unknown): string {
  return `${JSON.stringify(value, null, 2)}\n`;
}

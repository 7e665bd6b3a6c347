/**
 * A random id for `clientMessageId`. `crypto.randomUUID` exists only in secure contexts, and a
 * self-hosted UI is often served over plain http on a LAN address; `getRandomValues` is not.
 */
export function newClientId(): string {
  const bytes = crypto.getRandomValues(new Uint8Array(16));
  return `msg_${Array.from(bytes, (b) => b.toString(16).padStart(2, '0')).join('')}`;
}

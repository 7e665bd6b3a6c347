import { createInterface } from 'node:readline/promises';
import { loadConfig } from '@tern/shared/config/config';
import { ApiClient } from '../client/api-client.ts';
import { clientToken } from '../client/client-token.ts';
import { SessionStream } from '../client/session-stream.ts';
import { streamOneTurn } from './run-turn.ts';

export type ClientOptions = { session?: string; model?: string };

function endpoints() {
  const config = loadConfig();
  const host = config.TERN_HOST === '0.0.0.0' ? '127.0.0.1' : config.TERN_HOST;
  const token = clientToken(config);
  return {
    api: new ApiClient(config.TERN_API_URL ?? `http://${host}:${config.API_PORT}`, token),
    gatewayUrl: config.TERN_GATEWAY_URL ?? `http://${host}:${config.GATEWAY_PORT}`,
    token,
  };
}

async function openSession(
  { api, gatewayUrl, token }: ReturnType<typeof endpoints>,
  options: ClientOptions,
  title: string,
) {
  const sessionId =
    options.session ??
    (
      await api.createSession({
        title: title.slice(0, 80),
        ...(options.model ? { model: options.model } : {}),
      })
    ).session.id;
  const detail = await api.session(sessionId);
  const stream = await SessionStream.open(gatewayUrl, token, sessionId, detail.lastEventId);
  return { sessionId, stream };
}

/** `tern run "<prompt>"`: one turn, streamed, exit code 0 when the model finished normally. */
export async function runCommand(prompt: string, options: ClientOptions): Promise<number> {
  const client = endpoints();
  const { api } = client;
  const { sessionId, stream } = await openSession(client, options, prompt);
  try {
    process.stderr.write(`session ${sessionId}\n`);
    const reason = await streamOneTurn(
      api,
      stream,
      sessionId,
      prompt,
      process.stdout,
      process.stderr,
    );
    return reason === 'stop' ? 0 : 1;
  } finally {
    stream.close();
  }
}

/** `tern chat`: an interactive session; an empty line or Ctrl+D ends it. */
export async function chatCommand(options: ClientOptions): Promise<number> {
  const client = endpoints();
  const { api } = client;
  const { sessionId, stream } = await openSession(client, options, 'Chat');
  const rl = createInterface({ input: process.stdin, terminal: process.stdin.isTTY });
  process.stderr.write(`session ${sessionId} — type a message; an empty line or Ctrl+D quits\n`);
  const prompt = () => process.stdout.write('› ');
  try {
    prompt();
    // The line iterator buffers input that arrives while a turn is streaming (pasted or piped).
    for await (const line of rl) {
      if (!line.trim()) break;
      await streamOneTurn(api, stream, sessionId, line, process.stdout, process.stderr);
      prompt();
    }
    return 0;
  } finally {
    rl.close();
    stream.close();
  }
}

import { type DestinationStream, type Logger, pino } from 'pino';

export type { Logger };

/**
 * Fields that carry what users and models wrote. Turn log lines name their session, turn and
 * trace instead; these are redacted unless the operator asked for prompts (TERN_LOG_PROMPTS).
 */
const PROMPT_PATHS = [
  'prompt',
  '*.prompt',
  'systemPrompt',
  '*.systemPrompt',
  'messages',
  '*.messages',
  'output',
  '*.output',
];

export type LoggerOptions = {
  /** Keep prompt fields in log lines (TERN_LOG_PROMPTS); redacted otherwise. */
  logPrompts?: boolean;
  /** Where lines go; stdout by default. */
  destination?: DestinationStream;
};

/**
 * JSON lines on stdout. Anything that may carry a credential is redacted at the source so that
 * no code path can log a key by accident; so are prompts, unless `logPrompts`.
 */
export function createLogger(name: string, level: string, options: LoggerOptions = {}): Logger {
  const settings = {
    name,
    level,
    base: { pid: process.pid, role: name },
    redact: {
      paths: [
        'apiKey',
        '*.apiKey',
        'authorization',
        '*.authorization',
        'headers.authorization',
        '*.headers.authorization',
        'config.OPENAI_API_KEY',
        'config.ANTHROPIC_API_KEY',
        'config.GEMINI_API_KEY',
        'config.OPENAI_COMPATIBLE_API_KEY',
        'config.AWS_SECRET_ACCESS_KEY',
        'config.AWS_ACCESS_KEY_ID',
        'config.TERN_TOKEN',
        // API tokens: socket.io handshakes carry them as `auth.token`.
        'token',
        '*.token',
        'auth.token',
        '*.auth.token',
        'handshake.auth.token',
        '*.handshake.auth.token',
        'handshake.headers.authorization',
        '*.handshake.headers.authorization',
        ...(options.logPrompts ? [] : PROMPT_PATHS),
      ],
      censor: '[redacted]',
    },
  };
  return options.destination ? pino(settings, options.destination) : pino(settings);
}

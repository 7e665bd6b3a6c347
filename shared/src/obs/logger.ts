import { type Logger, pino } from 'pino';

export type { Logger };

/**
 * JSON lines on stdout. Anything that may carry a credential is redacted at the source so that
 * no code path can log a key by accident.
 */
export function createLogger(name: string, level: string): Logger {
  return pino({
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
      ],
      censor: '[redacted]',
    },
  });
}

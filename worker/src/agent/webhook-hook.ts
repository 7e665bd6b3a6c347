import type { WebhookHook } from '@tern/shared/protocol/hook-config';
import type { Hook, HookContext } from './hook-types.ts';

/** The decision shapes a webhook may answer; anything else counts as allow. */
type Answer = {
  action?: string;
  reason?: string;
  text?: string;
  args?: unknown;
  request?: unknown;
  result?: unknown;
};

/**
 * A hook that asks an HTTP endpoint. The context is sent as JSON without the abort signal; the
 * endpoint answers with a decision. Failures and overruns follow the hook's `onTimeout` policy,
 * applied by the loop (a throw here counts like an overrun).
 */
export function webhookHook(config: WebhookHook, fetchFn: typeof fetch = fetch): Hook {
  const wants = (point: WebhookHook['points'][number]) => config.points.includes(point);
  const forTool = (name: string) => !config.tools || config.tools.includes(name);
  const ask = async (point: string, context: HookContext, body: Record<string, unknown>) => {
    const response = await fetchFn(config.url, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({
        hook: config.name,
        point,
        sessionId: context.sessionId,
        turnId: context.turnId,
        step: context.step,
        ...body,
      }),
      signal: context.signal,
    });
    if (!response.ok) throw new Error(`hook ${config.name} answered HTTP ${response.status}`);
    return (await response.json()) as Answer;
  };
  const hook: Hook = {
    name: config.name,
    timeoutMs: config.timeoutMs,
    onTimeout: config.onTimeout,
  };
  if (wants('before_model')) {
    hook.beforeModel = async (c) => {
      const a = await ask('before_model', c, {
        model: c.request.model,
        tools: c.request.tools.map((t) => t.name),
      });
      if (a.action === 'deny') return { action: 'deny', reason: a.reason ?? 'denied' };
      if (a.action === 'add_context' && a.text) return { action: 'add_context', text: a.text };
      if (a.action === 'modify' && a.request && typeof a.request === 'object') {
        const r = a.request as { system?: unknown; maxTokens?: unknown; temperature?: unknown };
        return {
          action: 'modify',
          request: {
            ...(typeof r.system === 'string' ? { system: r.system } : {}),
            ...(typeof r.maxTokens === 'number' ? { maxTokens: r.maxTokens } : {}),
            ...(typeof r.temperature === 'number' ? { temperature: r.temperature } : {}),
          },
        };
      }
      return undefined;
    };
  }
  if (wants('after_model')) {
    hook.afterModel = async (c) => {
      const a = await ask('after_model', c, { answer: c.answer });
      if (a.action === 'deny') return { action: 'deny', reason: a.reason ?? 'denied' };
      if (a.action === 'add_context' && a.text) return { action: 'add_context', text: a.text };
      return undefined;
    };
  }
  if (wants('before_tool')) {
    hook.beforeTool = async (c) => {
      if (!forTool(c.call.name)) return undefined;
      const a = await ask('before_tool', c, { call: c.call, args: c.args });
      if (a.action === 'deny') return { action: 'deny', reason: a.reason ?? 'denied' };
      if (a.action === 'add_context' && a.text) return { action: 'add_context', text: a.text };
      if (a.action === 'modify' && a.args && typeof a.args === 'object') {
        return { action: 'modify', args: a.args as Record<string, unknown> };
      }
      return undefined;
    };
  }
  if (wants('after_tool')) {
    hook.afterTool = async (c) => {
      if (!forTool(c.call.name)) return undefined;
      const a = await ask('after_tool', c, { call: c.call, args: c.args, result: c.result });
      if (a.action === 'deny') return { action: 'deny', reason: a.reason ?? 'denied' };
      if (a.action === 'add_context' && a.text) return { action: 'add_context', text: a.text };
      const result = a.result as { ok?: unknown; output?: unknown } | undefined;
      if (
        a.action === 'modify' &&
        typeof result?.ok === 'boolean' &&
        typeof result.output === 'string'
      ) {
        return { action: 'modify', result: { ok: result.ok, output: result.output } };
      }
      return undefined;
    };
  }
  return hook;
}

import { readBody, sendJson } from './http-io.ts';
import { openAiError } from './openai/openai-errors.ts';
import { parseScenario } from './scenario.ts';
import type { RouteHandler, SimExchange } from './sim-context.ts';

/**
 * Control routes for scripted scenarios, so a load test can install its script on a running sim
 * (`PUT` replaces a scenario of the same name; requests already running keep the step they got).
 */
export const SCENARIOS_PATH = '/sim/scenarios';

/** `PUT /sim/scenarios/:name` with the scenario as the JSON body; `name` in the body is optional. */
export const handlePutScenario: RouteHandler = async (exchange) => {
  const { req, ctx } = exchange;
  const path = (req.url ?? '').split('?', 1)[0] ?? '';
  let name: string;
  try {
    name = decodeURIComponent(path.slice(SCENARIOS_PATH.length + 1));
  } catch {
    return badScenario(exchange, 'the scenario name in the URL is not valid percent-encoding');
  }
  let body: unknown;
  try {
    body = JSON.parse(await readBody(req));
  } catch {
    return badScenario(exchange, 'the body must be a JSON scenario document');
  }
  const parsed = parseScenario(body, name);
  if (!parsed.ok) return badScenario(exchange, parsed.message);
  ctx.scenarios.set(parsed.scenario.name, parsed.scenario);
  sendJson(exchange, 200, { name: parsed.scenario.name, steps: parsed.scenario.steps.length });
};

/** `GET /sim/scenarios`: the names and step counts of the installed scenarios. */
export const handleListScenarios: RouteHandler = (exchange) =>
  sendJson(exchange, 200, {
    scenarios: [...exchange.ctx.scenarios.values()].map((s) => ({
      name: s.name,
      steps: s.steps.length,
    })),
  });

function badScenario(exchange: SimExchange, message: string): void {
  sendJson(exchange, 400, openAiError(`Invalid scenario: ${message}.`, 'invalid_request_error'));
}

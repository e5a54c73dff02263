import { checkOverrides, type Scenario, type ScenarioFactory, type ScenarioOverrides } from '../core/scenario.js';
import { churn } from './churn.js';
import { smoke } from './smoke.js';
import { steady } from './steady.js';

export const SCENARIOS: Readonly<Record<string, ScenarioFactory>> = { smoke, steady, churn };

export function scenarioNames(): string[] {
  return Object.keys(SCENARIOS);
}

export function buildScenario(name: string, overrides: ScenarioOverrides = {}): Scenario {
  const factory = SCENARIOS[name];
  if (!factory) throw new Error(`unknown scenario "${name}"; known: ${scenarioNames().join(', ')}`);
  return factory(checkOverrides(overrides));
}

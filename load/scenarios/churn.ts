import { DEFAULT_THRESHOLDS, SESSION_DEFAULTS, type ScenarioFactory } from '../core/scenario.js';

/** Sessions joining and leaving: each VU talks 2–5 s, hangs up, and calls again. */
export const churn: ScenarioFactory = ({ vus = 4, durationS = 60 }) => ({
  name: 'churn',
  description: `${vus} VU(s) for ${durationS} s, each repeatedly talking 2–5 s then hanging up`,
  vus,
  durationS,
  staggerS: 2,
  talkS: [2, 5],
  pauseS: 0.5,
  query: {},
  ...SESSION_DEFAULTS,
  thresholds: DEFAULT_THRESHOLDS,
});

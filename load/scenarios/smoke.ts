import { DEFAULT_THRESHOLDS, SESSION_DEFAULTS, type ScenarioFactory } from '../core/scenario.js';

/** CI: two VUs, one conversation each for the whole (short) duration. */
export const smoke: ScenarioFactory = ({ vus = 2, durationS = 10 }) => ({
  name: 'smoke',
  description: `${vus} VU(s), one conversation each for ${durationS} s`,
  vus,
  durationS,
  staggerS: 1,
  talkS: [durationS, durationS],
  pauseS: 0,
  query: {},
  ...SESSION_DEFAULTS,
  thresholds: DEFAULT_THRESHOLDS,
});

import { DEFAULT_THRESHOLDS, SESSION_DEFAULTS, type ScenarioFactory } from '../core/scenario.js';

/** Moshi ends sessions at 4500 steps (6 min); longer runs chain conversations of at most this long. */
const MAX_CONVERSATION_S = 300;

/** N concurrent conversations held for the whole duration (the sustained-load figure). */
export const steady: ScenarioFactory = ({ vus = 4, durationS = 60 }) => {
  const talk = Math.min(durationS, MAX_CONVERSATION_S);
  return {
    name: 'steady',
    description: `${vus} VU(s) talking continuously for ${durationS} s (conversations of up to ${talk} s)`,
    vus,
    durationS,
    // Spread the joins so that they do not all land on one server tick.
    staggerS: Math.min(10, vus * 0.25),
    talkS: [talk, talk],
    pauseS: 0,
    query: {},
    ...SESSION_DEFAULTS,
    thresholds: DEFAULT_THRESHOLDS,
  };
};

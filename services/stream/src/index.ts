export { toDeadLetter, toLandedChange } from './landing';
export type { DeadLetter, LandedChange, MessagePosition } from './landing';
export { startChangelogLanding } from './landing-consumer';
export type { ChangelogLanding, ChangelogLandingOptions } from './landing-consumer';
export { writeLandingBatch } from './landing-sink';
export type { LandingResult } from './landing-sink';

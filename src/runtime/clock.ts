/** Time as the runtime sees it; a parameter so tests can fix it. */
export interface Clock {
  /** Milliseconds since the epoch. */
  now(): number;
}

/** The real clock. */
export const systemClock: Clock = { now: () => Date.now() };

/** ISO 8601 in UTC with milliseconds, as every record stores times. */
export function isoTime(ms: number): string {
  return new Date(ms).toISOString();
}

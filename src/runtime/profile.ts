/**
 * Where a sweep's time goes, for `npm run bench:overhead`: each phase's total time and count,
 * per trial (the plan of the next trial, the git source, the trial folder's files, the
 * trainer, grading, the records) and once per sweep (setup, aggregate, verify, package,
 * report). Off unless TUNIX_RT_PROFILE names a file, which the CLI writes at the end.
 */

/** Time and count per phase. */
export type ProfileTotals = Record<string, { ms: number; count: number }>;

/** A phase profile: `time` wraps a step, `add` adds a measured one. */
export class Profile {
  readonly totals: ProfileTotals = {};

  add(phase: string, ms: number): void {
    const entry = this.totals[phase] ?? { ms: 0, count: 0 };
    entry.ms += ms;
    entry.count += 1;
    this.totals[phase] = entry;
  }

  async time<T>(phase: string, step: () => Promise<T>): Promise<T> {
    const started = performance.now();
    try {
      return await step();
    } finally {
      this.add(phase, performance.now() - started);
    }
  }
}

/** Times a step when there is a profile, else just runs it. */
export function timed<T>(profile: Profile | undefined, phase: string, step: () => Promise<T>): Promise<T> {
  return profile ? profile.time(phase, step) : step();
}

/** The wave jobs sweep.yml has. */
export declare const waves: number;
/** The text of .github/workflows/sweep.yml. */
export declare function sweepWorkflow(): string;

import { spawn } from "node:child_process";
import { createWriteStream, type WriteStream } from "node:fs";
import type { Readable } from "node:stream";

/** How to run one trainer process. */
export interface TrialProcessOptions {
  /** Program and arguments; run directly, never through a shell. */
  argv: readonly string[];
  cwd: string;
  env: NodeJS.ProcessEnv;
  /** stdout and stderr are streamed here (interleaved as they arrive). */
  logFile: string;
  /** Wall-clock limit; the whole process group is stopped when it passes. */
  timeoutMs: number;
  /** Time between SIGTERM and SIGKILL when stopping the group. */
  graceMs?: number;
  /** Aborting stops the trainer the same way as a timeout (Ctrl-C of a sweep). */
  signal?: AbortSignal;
  /**
   * Called with every chunk of output too, and which stream it came on (a terminal echo),
   * when given. The chunks are raw: a caller that prints them redacts them first.
   */
  echo?: (chunk: Buffer, stream: "stdout" | "stderr") => void;
  /**
   * Bytes of output kept from the start of the log; past it only the last `tailBytes` are
   * kept, so a trainer printing gigabytes cannot fill the disk or the memory.
   */
  headBytes?: number;
  tailBytes?: number;
  /**
   * Applied to every line of stderr in order (a stateful redactor), before the last lines are
   * kept for `stderrTail`: a secret printed earlier on stderr never reaches the tail.
   */
  stderrLine?: (line: string) => string;
  /**
   * Told the trainer's pid (its process group's id) as soon as it runs, so a caller can record
   * the group before the trainer could outlive it (a sweep killed with SIGKILL).
   */
  onSpawn?: (pid: number) => void;
}

/** How a trainer process ended. */
export interface TrialProcessResult {
  exitCode: number | null;
  signal: NodeJS.Signals | null;
  timedOut: boolean;
  /** Stopped because `signal` was aborted. */
  interrupted: boolean;
  /** Set when the program could not be started ("not found", "not executable"). */
  spawnError?: string;
  /** Bytes of output the trainer wrote, kept or not. */
  outputBytes: number;
  /** Bytes of output left out of the log (between its head and its tail). */
  droppedBytes: number;
  /** The last lines the trainer wrote to stderr (at most `stderrLines`), for a failure's message. */
  stderrTail: string[];
}

/** How many of stderr's last lines a result keeps. */
const stderrLines = 5;

const defaultHead = 8 * 1024 * 1024;
const defaultTail = 1024 * 1024;

/**
 * Runs a trainer in its own process group and waits until it and its output have ended.
 * On timeout or abort the group gets SIGTERM, then SIGKILL after the grace period; when the
 * trainer exits by itself, children it left behind are stopped the same way.
 */
export function runTrialProcess(options: TrialProcessOptions): Promise<TrialProcessResult> {
  const graceMs = options.graceMs ?? 5000;
  const log = new BoundedLog(
    createWriteStream(options.logFile),
    options.headBytes ?? defaultHead,
    options.tailBytes ?? defaultTail,
  );
  return new Promise((resolve) => {
    const [program, ...args] = options.argv;
    const child = spawn(program ?? "", args, {
      cwd: options.cwd,
      env: options.env,
      // A new process group, so a timeout can stop the trainer together with its children.
      detached: true,
      stdio: ["ignore", "pipe", "pipe"],
    });
    if (child.pid !== undefined) options.onSpawn?.(child.pid);
    let timedOut = false;
    let interrupted = false;
    let exit: { code: number | null; signal: NodeJS.Signals | null } | undefined;
    let spawnError: string | undefined;
    let openStreams = 2;
    const timers: NodeJS.Timeout[] = [];

    const killGroup = (sig: NodeJS.Signals) => {
      if (child.pid === undefined) return;
      try {
        process.kill(-child.pid, sig);
      } catch {
        // ESRCH: the group is already gone.
      }
    };
    const stopGroup = () => {
      killGroup("SIGTERM");
      timers.push(setTimeout(() => killGroup("SIGKILL"), graceMs));
    };
    const onAbort = () => {
      if (exit) return;
      interrupted = true;
      stopGroup();
    };

    const finish = async () => {
      if (!exit || openStreams > 0) return;
      for (const t of timers) clearTimeout(t);
      options.signal?.removeEventListener("abort", onAbort);
      const { outputBytes, droppedBytes } = await log.close();
      resolve({
        exitCode: exit.code,
        signal: exit.signal,
        timedOut,
        interrupted,
        spawnError,
        outputBytes,
        droppedBytes,
        stderrTail: stderrTail.end(),
      });
    };

    const stderrTail = new LastLines(stderrLines, options.stderrLine);
    const pump = (stream: Readable, isStderr: boolean) => {
      stream.on("data", (chunk: Buffer) => {
        if (isStderr) stderrTail.write(chunk);
        if (!log.write(chunk)) {
          stream.pause();
          log.once("drain", () => stream.resume());
        }
        options.echo?.(chunk, isStderr ? "stderr" : "stdout");
      });
      stream.on("close", () => {
        openStreams--;
        void finish();
      });
    };
    pump(child.stdout, false);
    pump(child.stderr, true);

    child.on("error", (error: NodeJS.ErrnoException) => {
      spawnError = describeSpawnError(error, program ?? "");
      exit ??= { code: null, signal: null };
      void finish();
    });
    child.on("exit", (code, signal) => {
      exit = { code, signal };
      // Children left running would hold the output pipes open and outlive the trial.
      stopGroup();
      void finish();
    });

    timers.push(
      setTimeout(() => {
        if (exit) return;
        timedOut = true;
        stopGroup();
      }, options.timeoutMs),
    );
    if (options.signal?.aborted) onAbort();
    else options.signal?.addEventListener("abort", onAbort, { once: true });
  });
}

/**
 * Splits a byte stream into lines as they arrive (at \n, \r\n or a lone \r, as `readline`
 * splits the log when it is redacted), decoding UTF-8 across chunks. A line longer than
 * 64 KiB is cut there, so memory stays bounded whatever the stream holds.
 */
export class LineSplitter {
  private partial = "";
  private readonly decoder = new TextDecoder();

  constructor(private readonly onLine: (line: string) => void) {}

  write(chunk: Buffer): void {
    const parts = (this.partial + this.decoder.decode(chunk, { stream: true })).split(/\r?\n|\r/);
    this.partial = (parts.pop() ?? "").slice(0, 65_536);
    for (const line of parts) this.onLine(line);
  }

  /** Passes on the last line when the stream did not end with a newline. */
  end(): void {
    const rest = this.partial + this.decoder.decode();
    this.partial = "";
    if (rest !== "") this.onLine(rest);
  }
}

/**
 * The last `n` non-blank lines of a stream, each passed through `filter` in order and cut to
 * 300 characters.
 */
class LastLines {
  private readonly lines: string[] = [];
  private readonly splitter = new LineSplitter((line) => this.add(line));

  constructor(
    private readonly n: number,
    private readonly filter: (line: string) => string = (line) => line,
  ) {}

  write(chunk: Buffer): void {
    this.splitter.write(chunk);
  }

  end(): string[] {
    this.splitter.end();
    return [...this.lines];
  }

  private add(raw: string): void {
    const line = this.filter(raw).trimEnd();
    if (line.trim() === "") return;
    this.lines.push(line.length > 300 ? `${line.slice(0, 300)}…` : line);
    if (this.lines.length > this.n) this.lines.shift();
  }
}

function describeSpawnError(error: NodeJS.ErrnoException, program: string): string {
  switch (error.code) {
    case "ENOENT":
      return `trainer program not found: ${JSON.stringify(program)} (is it installed and on PATH, or is the path right?)`;
    case "EACCES":
      return `trainer program is not executable: ${JSON.stringify(program)} (chmod +x, or run it through its interpreter)`;
    default:
      return `trainer could not be started: ${error.message}`;
  }
}

/**
 * A log file that keeps the first `headBytes` and the last `tailBytes` of what is written,
 * with a line in between saying how much was left out.
 */
class BoundedLog {
  private written = 0;
  private tail: Buffer[] = [];
  private tailSize = 0;
  private dropped = 0;

  constructor(
    private readonly file: WriteStream,
    private readonly headBytes: number,
    private readonly tailBytes: number,
  ) {}

  /** Writes a chunk; false when the caller should wait for "drain". */
  write(chunk: Buffer): boolean {
    const room = this.headBytes - this.written;
    this.written += chunk.length;
    if (room >= chunk.length) return this.file.write(chunk);
    let ok = true;
    if (room > 0) ok = this.file.write(chunk.subarray(0, room));
    const rest = room > 0 ? chunk.subarray(room) : chunk;
    this.tail.push(rest);
    this.tailSize += rest.length;
    while (this.tailSize > this.tailBytes && this.tail.length > 0) {
      const first = this.tail[0] as Buffer;
      const excess = this.tailSize - this.tailBytes;
      if (first.length <= excess) {
        this.tail.shift();
        this.tailSize -= first.length;
        this.dropped += first.length;
      } else {
        this.tail[0] = first.subarray(excess);
        this.tailSize -= excess;
        this.dropped += excess;
      }
    }
    return ok;
  }

  once(event: "drain", listener: () => void): void {
    this.file.once(event, listener);
  }

  async close(): Promise<{ outputBytes: number; droppedBytes: number }> {
    if (this.dropped > 0) this.file.write(`\n[tunix-rt: ${this.dropped} bytes of output left out here]\n`);
    for (const part of this.tail) this.file.write(part);
    await new Promise<void>((resolve) => this.file.end(resolve));
    return { outputBytes: this.written, droppedBytes: this.dropped };
  }
}

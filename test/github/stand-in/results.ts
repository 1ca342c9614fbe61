/**
 * A stand-in for the runner's artifact service (the "results" service that @actions/artifact
 * v2+ talks to through the job's runtime token, `ACTIONS_RESULTS_URL` and
 * `ACTIONS_RUNTIME_TOKEN`): the Twirp JSON methods of github.actions.results.api.v1
 * .ArtifactService that the client calls (CreateArtifact, FinalizeArtifact, ListArtifacts,
 * GetSignedArtifactURL, DeleteArtifact) and the blob storage behind its signed URLs (an
 * Azure block blob: Put Block, Put Block List, Get Blob).
 *
 * The wire format is the protobuf JSON of the service's messages with their proto field
 * names (`workflow_run_backend_id`), as the client sends them.
 *
 * It keeps the service's rules that tunix-rt depends on: artifacts belong to a workflow run
 * (every job of the run, every attempt, sees them; another run's are invisible); a name is
 * taken once per run (a second CreateArtifact of it answers 409 already_exists, as a
 * re-run's upload meets); only finalized artifacts are listed; a token names its run and
 * job, and a request for another run is refused.
 */
import { randomBytes } from "node:crypto";
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";

interface StoredArtifact {
  id: number;
  run: string;
  job: string;
  name: string;
  zip: Buffer;
  finalized: boolean;
  createdAt: string;
}

const service = "/twirp/github.actions.results.api.v1.ArtifactService/";

/** The running stand-in: `start()`, then `tokenFor(run, job)` for each job's environment. */
export class ResultsStandIn {
  url = "";
  /** Every Twirp call, in order (`ListArtifacts`, ...). */
  readonly calls: string[] = [];
  /** Requests the real service would refuse (a token for another run, an unknown method). */
  readonly violations: string[] = [];
  private readonly artifacts: StoredArtifact[] = [];
  private readonly blocks = new Map<string, Map<string, Buffer>>();
  private server: Server | undefined;
  private lastId = 7000;
  /** 409s still to answer after a deletion (the name not yet free everywhere). */
  private stickyConflicts = 0;

  static async start(): Promise<ResultsStandIn> {
    const standIn = new ResultsStandIn();
    standIn.server = createServer((req, res) => {
      standIn.serve(req, res).catch((error: unknown) => {
        standIn.violations.push(`crashed on ${req.method} ${req.url}: ${String(error)}`);
        if (!res.headersSent) res.writeHead(500);
        res.end();
      });
    });
    await new Promise<void>((resolve) => standIn.server?.listen(0, "127.0.0.1", resolve));
    standIn.url = `http://127.0.0.1:${(standIn.server.address() as AddressInfo).port}`;
    return standIn;
  }

  async close(): Promise<void> {
    const server = this.server;
    if (!server) return;
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  }

  /**
   * A job's runtime token: a JWT whose `scp` names the run's and the job's backend ids, as the
   * runner's does (the client decodes it without checking a signature).
   */
  tokenFor(run: string, job: string): string {
    const part = (value: unknown) => Buffer.from(JSON.stringify(value)).toString("base64url");
    return `${part({ alg: "none", typ: "JWT" })}.${part({ scp: `Actions.GenericRead Actions.Results:${run}:${job}` })}.sig`;
  }

  /** The environment of a job of `run` (its attempt is a job backend id of its own). */
  envFor(run: string, job = randomBytes(8).toString("hex")): Record<string, string> {
    return { ACTIONS_RESULTS_URL: `${this.url}/`, ACTIONS_RUNTIME_TOKEN: this.tokenFor(run, job) };
  }

  /**
   * Puts a finalized artifact into a run, as an earlier job would have uploaded it; one of
   * the same name is replaced, as a re-run's upload replaces its earlier attempt's.
   */
  addArtifact(run: string, name: string, zip: Buffer): number {
    const earlier = this.artifacts.findIndex((a) => a.run === run && a.name === name);
    if (earlier >= 0) this.artifacts.splice(earlier, 1);
    const artifact = this.create(run, "earlier-job", name);
    artifact.zip = zip;
    artifact.finalized = true;
    return artifact.id;
  }

  /** The finalized artifacts of a run: name and zip, in upload order. */
  artifactsOf(run: string): Array<{ id: number; name: string; zip: Buffer }> {
    return this.artifacts
      .filter((a) => a.run === run && a.finalized)
      .map(({ id, name, zip }) => ({ id, name, zip }));
  }

  /** The next `n` uploads of a name just deleted still meet 409, as a slow-to-clear name would. */
  conflictAfterDelete(n: number): void {
    this.stickyConflicts = n;
  }

  /** Throws, listing them, when any request broke the service's rules. */
  assertClean(): void {
    if (this.violations.length) throw new Error(`results stand-in: ${this.violations.join("\n")}`);
  }

  private create(run: string, job: string, name: string): StoredArtifact {
    const artifact: StoredArtifact = {
      id: ++this.lastId,
      run,
      job,
      name,
      zip: Buffer.alloc(0),
      finalized: false,
      createdAt: new Date().toISOString(),
    };
    this.artifacts.push(artifact);
    return artifact;
  }

  private async serve(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    const body = Buffer.concat(chunks);
    const url = new URL(req.url ?? "/", this.url);
    if (url.pathname.startsWith("/blob/")) return this.blob(req.method ?? "GET", url, body, res);
    const json = (status: number, value: unknown) => {
      res.writeHead(status, { "content-type": "application/json" });
      res.end(JSON.stringify(value));
    };
    const twirpError = (status: number, code: string, msg: string) => json(status, { code, msg });
    if (req.method !== "POST" || !url.pathname.startsWith(service)) {
      this.violations.push(`not a Twirp call of the artifact service: ${req.method} ${url.pathname}`);
      return twirpError(404, "bad_route", "no such method");
    }
    const method = url.pathname.slice(service.length);
    this.calls.push(method);
    const scope = /Actions\.Results:([^:\s]+):([^:\s]+)/.exec(this.scopeOf(req));
    const request = JSON.parse(body.toString("utf8") || "{}") as Record<string, unknown>;
    if (!scope || request.workflow_run_backend_id !== scope[1]) {
      this.violations.push(
        `${method}: the token does not name run ${String(request.workflow_run_backend_id)}`,
      );
      return twirpError(401, "unauthenticated", "the token is not for this run");
    }
    const run = scope[1] as string;
    const job = scope[2] as string;
    const finalized = this.artifacts.filter((a) => a.run === run && a.finalized);
    const wire = (a: StoredArtifact) => ({
      workflow_run_backend_id: a.run,
      workflow_job_run_backend_id: a.job,
      database_id: String(a.id),
      name: a.name,
      size: String(a.zip.length),
      created_at: a.createdAt,
    });
    switch (method) {
      case "CreateArtifact": {
        const name = String(request.name);
        if (finalized.some((a) => a.name === name) || (this.stickyConflicts > 0 && this.stickyConflicts--)) {
          return twirpError(
            409,
            "already_exists",
            `an artifact with this name already exists on the workflow run: ${name}`,
          );
        }
        const artifact = this.create(run, job, name);
        return json(200, {
          ok: true,
          signed_upload_url: `${this.url}/blob/devstoreaccount1/artifacts/${artifact.id}.zip?sig=upload`,
        });
      }
      case "FinalizeArtifact": {
        const artifact = [...this.artifacts]
          .reverse()
          .find((a) => a.run === run && a.job === job && a.name === request.name && !a.finalized);
        if (!artifact) return twirpError(404, "not_found", "no artifact to finalize");
        artifact.finalized = true;
        return json(200, { ok: true, artifact_id: String(artifact.id) });
      }
      case "ListArtifacts": {
        const name = request.name_filter as string | undefined;
        const id = request.id_filter as string | undefined;
        const listed = finalized.filter(
          (a) => (name === undefined || a.name === name) && (id === undefined || String(a.id) === String(id)),
        );
        return json(200, { artifacts: listed.map(wire) });
      }
      case "GetSignedArtifactURL": {
        const artifact = [...finalized].reverse().find((a) => a.name === request.name);
        if (!artifact) return twirpError(404, "not_found", "no such artifact");
        return json(200, {
          signed_url: `${this.url}/blob/devstoreaccount1/artifacts/${artifact.id}.zip?sig=read`,
        });
      }
      case "DeleteArtifact": {
        const artifact = [...finalized].reverse().find((a) => a.name === request.name);
        if (!artifact) return twirpError(404, "not_found", "no such artifact");
        this.artifacts.splice(this.artifacts.indexOf(artifact), 1);
        return json(200, { ok: true, artifact_id: String(artifact.id) });
      }
      default:
        this.violations.push(`unknown method ${method}`);
        return twirpError(404, "bad_route", "no such method");
    }
  }

  private scopeOf(req: IncomingMessage): string {
    const bearer = /^Bearer (.+)$/.exec(String(req.headers.authorization ?? ""))?.[1] ?? "";
    try {
      return String(
        JSON.parse(Buffer.from(bearer.split(".")[1] ?? "", "base64url").toString("utf8")).scp ?? "",
      );
    } catch {
      return "";
    }
  }

  /** Azure block blob storage, as the signed URLs reach it: Put Block, Put Block List, Get Blob. */
  private blob(method: string, url: URL, body: Buffer, res: ServerResponse): void {
    const id = Number(/\/(\d+)\.zip$/.exec(url.pathname)?.[1]);
    const artifact = this.artifacts.find((a) => a.id === id);
    const headers = {
      etag: `"0x${randomBytes(6).toString("hex")}"`,
      "last-modified": new Date().toUTCString(),
      "x-ms-request-id": randomBytes(8).toString("hex"),
      "x-ms-version": "2025-01-05",
      "x-ms-request-server-encrypted": "true",
    };
    if (!artifact || !url.searchParams.get("sig")) {
      res.writeHead(403);
      res.end("AuthenticationFailed");
      return;
    }
    const comp = url.searchParams.get("comp");
    if (method === "PUT" && comp === "block") {
      const blocks = this.blocks.get(String(id)) ?? new Map<string, Buffer>();
      blocks.set(url.searchParams.get("blockid") ?? "", body);
      this.blocks.set(String(id), blocks);
      res.writeHead(201, headers);
      res.end();
      return;
    }
    if (method === "PUT" && comp === "blocklist") {
      const ids = [...body.toString("utf8").matchAll(/<(?:Latest|Uncommitted|Committed)>([^<]*)<\//g)].map(
        (m) => m[1] ?? "",
      );
      const blocks = this.blocks.get(String(id)) ?? new Map<string, Buffer>();
      artifact.zip = Buffer.concat(ids.map((b) => blocks.get(b) ?? Buffer.alloc(0)));
      res.writeHead(201, headers);
      res.end();
      return;
    }
    if (method === "PUT" && comp === null) {
      artifact.zip = body;
      res.writeHead(201, headers);
      res.end();
      return;
    }
    if (method === "GET") {
      res.writeHead(200, {
        ...headers,
        "content-type": "application/zip",
        "content-length": String(artifact.zip.length),
      });
      res.end(artifact.zip);
      return;
    }
    this.violations.push(`blob storage: ${method} ${url.search} not modelled`);
    res.writeHead(400);
    res.end();
  }
}

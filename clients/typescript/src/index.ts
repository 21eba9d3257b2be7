// dogsearch for Node.js: a typed client for the DogSearch (gateway) and Trainer gRPC APIs.
// Methods return promises of the contract's messages (field names as in the .proto files,
// enums as their names, 64-bit integers as strings); streams are async iterators. Failures
// reject with DogSearchError, which carries the gRPC status code and the server's message.
// Calls that only read are retried on UNAVAILABLE within their deadline; calls that change
// state are not.
import * as fs from "fs";
import * as path from "path";
import * as grpc from "@grpc/grpc-js";
import * as protoLoader from "@grpc/proto-loader";

import type { ProtoGrpcType as DogSearchProto } from "./generated/dogsearch";
import type { ProtoGrpcType as TrainerProto } from "./generated/trainer";
import type { DogSearchClient } from "./generated/dogsearch/v1/DogSearch";
import type { TrainerClient } from "./generated/dogsearch/v1/Trainer";
import type { Photo } from "./generated/dogsearch/v1/Photo";
import type { SearchResponse__Output } from "./generated/dogsearch/v1/SearchResponse";
import type { VerifyResponse__Output } from "./generated/dogsearch/v1/VerifyResponse";
import type { Dog__Output } from "./generated/dogsearch/v1/Dog";
import type { AddPhotosResponse__Output } from "./generated/dogsearch/v1/AddPhotosResponse";
import type { ListDogsResponse__Output } from "./generated/dogsearch/v1/ListDogsResponse";
import type { ModelStatus__Output } from "./generated/dogsearch/v1/ModelStatus";
import type { TrainingConfig } from "./generated/dogsearch/v1/TrainingConfig";
import type { Job__Output } from "./generated/dogsearch/v1/Job";
import type { JobProgress__Output } from "./generated/dogsearch/v1/JobProgress";
import type { ListJobsResponse__Output } from "./generated/dogsearch/v1/ListJobsResponse";
import type { ListCheckpointsResponse__Output } from "./generated/dogsearch/v1/ListCheckpointsResponse";
import type { CheckpointInfo__Output } from "./generated/dogsearch/v1/CheckpointInfo";

export type {
  SearchResponse__Output as SearchResponse, VerifyResponse__Output as VerifyResponse,
  Dog__Output as Dog, AddPhotosResponse__Output as AddPhotosResponse,
  ModelStatus__Output as ModelStatus, TrainingConfig, Job__Output as Job,
  JobProgress__Output as JobProgress, ListCheckpointsResponse__Output as ListCheckpointsResponse,
  CheckpointInfo__Output as CheckpointInfo,
};

/** A path to an image file, its bytes, or a Photo message. */
export type PhotoLike = string | Buffer | Uint8Array | Photo;

export interface ClientOptions {
  /** Bearer token for the gateway (and the trainer unless trainerToken is given). */
  token?: string;
  /** The trainer, for train/watch/promote. */
  trainerAddress?: string;
  trainerToken?: string;
  /** TLS: true, or implied by caCert / clientCert. */
  tls?: boolean;
  /** The trainer connection's TLS (default: the same as the gateway's). */
  trainerTls?: boolean;
  /** PEM contents or file paths. */
  caCert?: Buffer | string;
  clientCert?: Buffer | string;
  clientKey?: Buffer | string;
  /** Per-call deadline, milliseconds (default 30 s; streams have none unless given). */
  timeoutMs?: number;
}

/** A failed call: `code` is the gRPC status, `codeName` its name, `details` the server's message. */
export class DogSearchError extends Error {
  constructor(readonly code: grpc.status, readonly details: string, readonly method: string) {
    super(`${method}: ${grpc.status[code]}: ${details}`);
    this.name = "DogSearchError";
  }
  get codeName(): string {
    return grpc.status[this.code];
  }
}

export interface ImportSummary {
  dogs: number;
  photos: number;
  skipped: number;
  errors: Array<{ dogId: string; message: string }>;
}

export const IMAGE_EXTENSIONS = [".jpg", ".jpeg", ".png", ".webp"];
const MAX_PHOTOS_PER_REQUEST = 32;
const MAX_REQUEST_BYTES = 64 << 20;
const TERMINAL_JOB_STATES = new Set([
  "JOB_STATE_SUCCEEDED", "JOB_STATE_FAILED", "JOB_STATE_CANCELLED", "JOB_STATE_INTERRUPTED",
]);
const LOADER_OPTIONS: protoLoader.Options = {
  keepCase: true, longs: String, enums: String, defaults: true, oneofs: true,
  includeDirs: [path.join(__dirname, "..", "protos")],
};

function pem(v: Buffer | string | undefined): Buffer | null {
  if (v === undefined) return null;
  if (Buffer.isBuffer(v)) return v;
  return v.includes("-----BEGIN") ? Buffer.from(v) : fs.readFileSync(v);
}

function credentials(secure: boolean, o: ClientOptions): grpc.ChannelCredentials {
  if (!secure) return grpc.credentials.createInsecure();
  return grpc.credentials.createSsl(pem(o.caCert), pem(o.clientKey), pem(o.clientCert));
}

/** A Photo message from a path, bytes or a Photo. */
export function toPhoto(photo: PhotoLike, name = ""): Photo {
  if (typeof photo === "string") return { data: fs.readFileSync(photo), name: name || path.basename(photo) };
  if (Buffer.isBuffer(photo) || photo instanceof Uint8Array) return { data: Buffer.from(photo), name };
  if (photo && typeof photo === "object" && "data" in photo) return photo;
  throw new TypeError("a photo must be a path, bytes or a Photo");
}

/** "MATCH", "POSSIBLE_MATCH" or "NO_MATCH". */
export function answerName(r: SearchResponse__Output): string {
  return String(r.answer).replace("SEARCH_ANSWER_", "");
}

type Unary = (req: unknown, md: grpc.Metadata, opts: grpc.CallOptions,
              cb: (err: grpc.ServiceError | null, res?: unknown) => void) => unknown;

class Service {
  constructor(private readonly stub: grpc.Client, private readonly token: string | undefined,
              private readonly timeoutMs: number) {}

  private metadata(): grpc.Metadata {
    const md = new grpc.Metadata();
    if (this.token) md.set("authorization", `Bearer ${this.token}`);
    return md;
  }

  async call<T>(method: string, req: unknown, safe: boolean, timeoutMs?: number): Promise<T> {
    const deadline = Date.now() + (timeoutMs ?? this.timeoutMs);
    const attempts = safe ? 3 : 1;
    for (let attempt = 0; ; attempt++) {
      try {
        return await new Promise<T>((resolve, reject) => {
          const fn = (this.stub as unknown as Record<string, Unary>)[method].bind(this.stub);
          fn(req, this.metadata(), { deadline: new Date(deadline) }, (err, res) =>
            err ? reject(err) : resolve(res as T));
        });
      } catch (e) {
        const err = e as grpc.ServiceError;
        const backoff = 200 * (attempt + 1);
        const retry = safe && err.code === grpc.status.UNAVAILABLE && attempt + 1 < attempts &&
                      Date.now() + backoff < deadline;
        if (!retry) throw new DogSearchError(err.code ?? grpc.status.UNKNOWN, err.details ?? String(e), method);
        await new Promise((r) => setTimeout(r, backoff));
      }
    }
  }

  async *stream<T>(method: string, req: unknown, timeoutMs?: number): AsyncGenerator<T> {
    const opts: grpc.CallOptions = timeoutMs ? { deadline: new Date(Date.now() + timeoutMs) } : {};
    const fn = (this.stub as unknown as Record<string, (r: unknown, m: grpc.Metadata, o: grpc.CallOptions) =>
      grpc.ClientReadableStream<T>>)[method].bind(this.stub);
    const call = fn(req, this.metadata(), opts);
    try {
      for await (const msg of call) yield msg as T;
    } catch (e) {
      const err = e as grpc.ServiceError;
      throw new DogSearchError(err.code ?? grpc.status.UNKNOWN, err.details ?? String(e), method);
    } finally {
      call.cancel();
    }
  }
}

export class Client {
  private readonly ds: Service;
  private readonly trainer?: Service;
  private readonly stubs: grpc.Client[] = [];

  /** `address`: the gateway (DogSearch), e.g. "127.0.0.1:50050". */
  constructor(address = "127.0.0.1:50050", private readonly options: ClientOptions = {}) {
    const o = options;
    const secure = Boolean(o.tls || o.caCert || o.clientCert);
    const channelOptions = { "grpc.max_send_message_length": MAX_REQUEST_BYTES + (1 << 20),
                             "grpc.max_receive_message_length": 64 << 20 };
    const ds = grpc.loadPackageDefinition(protoLoader.loadSync("dogsearch/v1/dogsearch.proto", LOADER_OPTIONS)) as unknown as DogSearchProto;
    const gateway: DogSearchClient = new ds.dogsearch.v1.DogSearch(address, credentials(secure, o), channelOptions);
    this.stubs.push(gateway);
    this.ds = new Service(gateway, o.token, o.timeoutMs ?? 30000);
    if (o.trainerAddress) {
      const tp = grpc.loadPackageDefinition(protoLoader.loadSync("dogsearch/v1/trainer.proto", LOADER_OPTIONS)) as unknown as TrainerProto;
      const t: TrainerClient = new tp.dogsearch.v1.Trainer(
        o.trainerAddress, credentials(o.trainerTls ?? secure, o), channelOptions);
      this.stubs.push(t);
      this.trainer = new Service(t, o.trainerToken ?? o.token, o.timeoutMs ?? 30000);
    }
  }

  close(): void {
    for (const s of this.stubs) s.close();
  }

  // -- searching ---------------------------------------------------------------------------
  /** The k most similar dogs, best first, and the answer (MATCH / POSSIBLE_MATCH / NO_MATCH). */
  search(photo: PhotoLike, opts: { k?: number; photosPerDog?: number; timeoutMs?: number } = {}): Promise<SearchResponse__Output> {
    return this.ds.call("Search", { photo: toPhoto(photo), k: opts.k ?? 5, photos_per_dog: opts.photosPerDog ?? 0 },
                        true, opts.timeoutMs);
  }

  /** Whether two photos show the same dog. */
  verify(a: PhotoLike, b: PhotoLike): Promise<VerifyResponse__Output> {
    return this.ds.call("Verify", { photo_a: toPhoto(a), photo_b: toPhoto(b) }, true);
  }

  // -- the gallery -------------------------------------------------------------------------
  enroll(dogId: string, name: string, photos: PhotoLike[], notes = ""): Promise<Dog__Output> {
    return this.ds.call("Enroll", { dog_id: dogId, name, notes, photos: photos.map((p) => toPhoto(p)) }, false);
  }

  addPhotos(dogId: string, photos: PhotoLike[]): Promise<AddPhotosResponse__Output> {
    return this.ds.call("AddPhotos", { dog_id: dogId, photos: photos.map((p) => toPhoto(p)) }, false);
  }

  removePhoto(dogId: string, photoId: string): Promise<Dog__Output> {
    return this.ds.call("RemovePhoto", { dog_id: dogId, photo_id: photoId }, false);
  }

  dog(dogId: string): Promise<Dog__Output> {
    return this.ds.call("GetDog", { dog_id: dogId }, true);
  }

  /** Every enrolled dog, a page at a time. */
  async *dogs(pageSize = 100): AsyncGenerator<Dog__Output> {
    let token = "";
    do {
      const page: ListDogsResponse__Output = await this.ds.call("ListDogs", { page_size: pageSize, page_token: token }, true);
      yield* page.dogs;
      token = page.next_page_token;
    } while (token);
  }

  async delete(dogId: string): Promise<void> {
    await this.ds.call("DeleteDog", { dog_id: dogId }, false);
  }

  /** Serving model, gallery size, latest upgrade, and the rollout against the trainer. */
  status(): Promise<ModelStatus__Output> {
    return this.ds.call("GetModelStatus", {}, true);
  }

  upgrade(version: string): Promise<ModelStatus__Output> {
    return this.ds.call("StartModelUpgrade", { version }, false);
  }

  /** Enrolls each sub-folder of `folder` as a dog (id and name: the folder's name) with its
   * images, within the server's per-request limits; existing dogs get the new photos. Errors
   * are collected per dog. `onProgress(done, total)` after each dog. */
  async importFolder(folder: string, onProgress?: (done: number, total: number) => void): Promise<ImportSummary> {
    const dogs = fs.readdirSync(folder, { withFileTypes: true }).filter((d) => d.isDirectory())
      .map((d) => d.name).sort();
    const summary: ImportSummary = { dogs: 0, photos: 0, skipped: 0, errors: [] };
    for (let i = 0; i < dogs.length; i++) {
      const dir = path.join(folder, dogs[i]);
      const files = fs.readdirSync(dir).filter((f) => IMAGE_EXTENSIONS.includes(path.extname(f).toLowerCase()))
        .sort().map((f) => path.join(dir, f));
      if (files.length) await this.importDog(dogs[i], files, summary);
      onProgress?.(i + 1, dogs.length);
    }
    return summary;
  }

  private async importDog(dogId: string, files: string[], summary: ImportSummary): Promise<void> {
    const batches: string[][] = [[]];
    let size = 0;
    for (const f of files) {
      const n = fs.statSync(f).size;
      const last = batches[batches.length - 1];
      if (last.length && (last.length >= MAX_PHOTOS_PER_REQUEST || size + n > MAX_REQUEST_BYTES)) {
        batches.push([]);
        size = 0;
      }
      batches[batches.length - 1].push(f);
      size += n;
    }
    try {
      let rest = batches.slice(1);
      try {
        await this.enroll(dogId, dogId, batches[0]);
        summary.dogs++;
        summary.photos += batches[0].length;
      } catch (e) {
        // ALREADY_EXISTS: the dog exists (add the photos), or a photo is another dog's (an error).
        if (!(e instanceof DogSearchError) || e.code !== grpc.status.ALREADY_EXISTS) throw e;
        await this.dog(dogId).catch(() => { throw e; });
        rest = batches;
      }
      for (const b of rest) {
        const r = await this.addPhotos(dogId, b);
        summary.photos += r.added_photo_ids.length;
        summary.skipped += r.duplicate_photo_ids.length;
      }
    } catch (e) {
      summary.errors.push({ dogId, message: e instanceof DogSearchError ? e.details : String(e) });
    }
  }

  // -- the trainer -------------------------------------------------------------------------
  private t(): Service {
    if (!this.trainer) throw new Error("this client has no trainerAddress");
    return this.trainer;
  }

  /** Starts a training job on `dataset` (a folder under the trainer's data root). */
  train(dataset: string, config: TrainingConfig = {}, opts: { label?: string; autoPromote?: boolean } = {}): Promise<Job__Output> {
    return this.t().call("StartTraining", { config: { ...config, dataset }, label: opts.label ?? "",
                                           auto_promote: opts.autoPromote ?? false }, false);
  }

  job(jobId: string): Promise<Job__Output> {
    return this.t().call("GetJob", { job_id: jobId }, true);
  }

  async jobs(): Promise<Job__Output[]> {
    return (await this.t().call<ListJobsResponse__Output>("ListJobs", {}, true)).jobs;
  }

  cancel(jobId: string): Promise<Job__Output> {
    return this.t().call("CancelJob", { job_id: jobId }, false);
  }

  /** A job's progress as it happens, ending after its final state. */
  async *watch(jobId: string, timeoutMs?: number): AsyncGenerator<JobProgress__Output> {
    for await (const p of this.t().stream<JobProgress__Output>("WatchJob", { job_id: jobId }, timeoutMs)) {
      yield p;
      if (TERMINAL_JOB_STATES.has(String(p.state))) return;
    }
  }

  /** Published checkpoints (oldest first) and the promoted version. */
  checkpoints(): Promise<ListCheckpointsResponse__Output> {
    return this.t().call("ListCheckpoints", {}, true);
  }

  /** Promotes a checkpoint: the gateways and embedding servers that follow the trainer move to it. */
  promote(version: string): Promise<CheckpointInfo__Output> {
    return this.t().call("PromoteCheckpoint", { version }, false);
  }
}

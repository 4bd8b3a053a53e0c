import { createServer, type RequestListener, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { type ConfigOverrides, loadConfig, type ServiceConfig, withOverrides } from "../service/settings.ts";
import type { Renderer } from "../core/render.ts";
import { createHttpHandler } from "../http/handler.ts";
import { type Logger, serviceLogger } from "../service/log.ts";
import { createService } from "../service/service.ts";
import { configuredSigner } from "../service/signing/configured.ts";
import { localSigner } from "../service/signing/local-signer.ts";
import type { PdfSigner } from "../core/secure/index.ts";
import type { Storage } from "../service/storage/s3.ts";
import { createUploadHandler } from "../upload/handler.ts";
import { withLocalKey } from "../service/callbacks/local-key.ts";
import { answerClientError, answerStarting, loopbackHosts, loopbackOrigins, serveHttpEvents } from "./http-adapter.ts";
import { type LocalS3, S3RVER_CREDENTIALS, startLocalS3 } from "./s3-server.ts";
import { offerStoredUploads } from "./offer-stored-uploads.ts";
import { createUploadQueue } from "./upload-queue.ts";

/**
 * `npm start`: the whole service on a laptop, in one process and with no AWS account.
 * - the HTTP handler behind node:http (http://127.0.0.1:3000), through the API Gateway event adapter;
 * - s3rver on loopback (port 4569) with the input and output buckets, data under ./.data;
 * - s3rver's ObjectCreated events → an in-process queue → the upload handler, as S3 → SQS → Lambda;
 *   a batch's line tasks go through the same queue (the line queue on AWS).
 * No web page the user visits can drive it: both servers answer only to their loopback Host (DNS
 * rebinding), the API takes only JSON bodies (a cross-site form cannot send one), s3rver lets web
 * pages only read, and only the service's own page may read outputs cross-origin (CORS).
 */
export interface LocalOptions {
  /** HTTP port; 0 picks a free one. Default: PORT or 3000. */
  port?: number;
  /** S3 port; 0 picks a free one. Default: S3_PORT or 4569. */
  s3Port?: number;
  /** Where s3rver keeps the buckets. Default: DATA_DIR or ./.data. */
  dataDir?: string;
  /**
   * Who signs `options.pdf.sign` renders. Default: the settings' KMS key if there is one, else a key
   * and self-signed certificate made on the first signed render and kept in the data folder.
   */
  signer?: PdfSigner;
  /** Settings over those from the environment (limits, bucket names…). */
  config?: ConfigOverrides;
  log?: Logger;
}

export interface LocalService {
  /** The HTTP API and web page, e.g. http://127.0.0.1:3000 */
  url: string;
  /** The S3 endpoint, e.g. http://127.0.0.1:4569 */
  s3Endpoint: string;
  config: ServiceConfig;
  storage: Storage;
  /** Its render core (benches look at its browsers). */
  renderer: Renderer;
  /** The file holding the callback signing key it generated (CALLBACK_SECRET unset). */
  callbackKeyFile?: string;
  /** Resolves when every upload event so far has been handled. */
  uploadsIdle(): Promise<void>;
  /** Stops it all; `finishRequests`: HTTP requests under way are answered first (Ctrl-C). */
  close(options?: { finishRequests?: boolean }): Promise<void>;
}

const HOST = "127.0.0.1";

export async function startLocal(options: LocalOptions = {}): Promise<LocalService> {
  const base = loadConfig();

  // The HTTP server listens first: its port (0 picks one) names the web page's origin, the only
  // one the output bucket lets read cross-origin. Until the rest is up it answers 503.
  let serve: RequestListener = answerStarting;
  const http = createServer((req, res) => serve(req, res));
  // Node's own answers to requests it cannot parse carry an id too.
  http.on("clientError", answerClientError());
  const address = await listen(http, options.port ?? base.local.port);
  // Stops taking requests; those under way are answered first when `finish` is set, else cut off.
  const closeHttp = (finish = false) =>
    new Promise<void>((done) => {
      http.close(() => done());
      if (finish) http.closeIdleConnections();
      else http.closeAllConnections();
    });

  let s3: LocalS3 | undefined;
  try {
    s3 = await startLocalS3({
      host: HOST,
      port: options.s3Port ?? base.local.s3Port,
      directory: resolve(options.dataDir ?? base.local.dataDir),
      inputBucket: options.config?.inputBucket ?? base.inputBucket,
      outputBucket: options.config?.outputBucket ?? base.outputBucket,
      corsOrigins: loopbackOrigins(address.port),
    });
    const store = s3;

    const configured = withOverrides(base, {
      ...options.config,
      s3: { endpoint: store.endpoint, forcePathStyle: true, credentials: S3RVER_CREDENTIALS, ...options.config?.s3 },
    });
    // Callbacks are signed: without a key set, one generated once and kept in the data folder.
    const callbackKey = await withLocalKey(configured.callback, resolve(options.dataDir ?? base.local.dataDir));
    const config: ServiceConfig = { ...configured, callback: callbackKey.settings };
    const signer =
      options.signer ??
      configuredSigner(config) ??
      localSigner(resolve(options.dataDir ?? base.local.dataDir), config.signing.subject);
    const service = createService(config, options.log ?? serviceLogger(config), signer);

    // The handler sends a batch's line tasks to the queue that delivers to it.
    const uploads = createUploadQueue({
      inputBucket: config.inputBucket,
      handler: (event) => handleUpload(event),
      maxReceiveCount: config.maxReceiveCount,
      log: service.log,
    });
    const handleUpload = createUploadHandler(service, { lineTasks: uploads.lineTasks });
    store.onEvent((event) => uploads.accept(event));

    // Only requests that name this server by its loopback address reach the handler (DNS rebinding).
    serve = serveHttpEvents(createHttpHandler(service), {
      allowedHosts: loopbackHosts(address.port),
      log: service.log,
    });
    // After a crash (or any stop with work queued), what the queue held is not lost (offer-stored-uploads.ts).
    // In the background: the server answers at once, however many uploads the bucket holds.
    offerStoredUploads(service.storage, config.inputBucket, (event) => uploads.accept(event), service.log).catch(
      (e: unknown) => service.log.error("local.uploads_not_offered_again", { error: e }),
    );

    return {
      url: `http://${HOST}:${address.port}`,
      s3Endpoint: store.endpoint,
      config,
      storage: service.storage,
      renderer: service.renderer,
      callbackKeyFile: callbackKey.file,
      uploadsIdle: () => uploads.idle(),
      async close(options = {}) {
        await closeHttp(options.finishRequests);
        await uploads.close();
        await store.close();
        await service.fence.close();
        await service.renderer.close();
      },
    };
  } catch (e) {
    await s3?.close();
    await closeHttp();
    throw e;
  }
}

function listen(server: Server, port: number): Promise<AddressInfo> {
  return new Promise((done, fail) => {
    server.once("error", fail);
    server.listen(port, HOST, () => done(server.address() as AddressInfo));
  });
}

async function main(): Promise<void> {
  const local = await startLocal();
  const { inputBucket, outputBucket } = local.config;
  process.stdout.write(
    [
      "",
      `report-render is running`,
      `  web page      ${local.url}/`,
      `  HTTP API      ${local.url}/v1/render  (also /v1/jobs, /v1/templates, /health)`,
      `  S3 endpoint   ${local.s3Endpoint}  (credentials S3RVER / S3RVER)`,
      `  upload        s3://${inputBucket}/incoming/<name>.json or .jsonl  →  s3://${outputBucket}/<name>.pdf`,
      ...(local.callbackKeyFile
        ? [`  callback key  ${local.callbackKeyFile}  (signs job callbacks; CALLBACK_SECRET sets another)`]
        : []),
      "",
      "",
    ].join("\n"),
  );
  let stopping = false;
  // The first Ctrl-C lets renders under way finish; a second one does not wait for them.
  const stop = () => {
    if (stopping) {
      process.stderr.write("report-render: stopped without waiting for the renders under way\n");
      process.exit(130);
    }
    stopping = true;
    process.stderr.write("report-render: stopping once the renders under way finish (Ctrl-C again: at once)\n");
    local.close({ finishRequests: true }).then(
      () => process.exit(0),
      () => process.exit(1),
    );
  };
  process.on("SIGINT", stop);
  process.on("SIGTERM", stop);
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  main().catch((e: unknown) => {
    process.stderr.write(`report-render: could not start: ${(e as Error).message}\n`);
    process.exit(1);
  });
}

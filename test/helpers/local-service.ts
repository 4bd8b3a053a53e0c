import { mkdtemp, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { ConfigOverrides } from "../../functions/service/settings.ts";
import { startLocal, type LocalService } from "../../functions/local/server.ts";
import { createLogger, type Logger } from "../../functions/service/log.ts";
import { createService, type Service } from "../../functions/service/service.ts";
import type { ServiceConfig } from "../../functions/service/settings.ts";

export const examplePath = join(import.meta.dirname, "../../examples/zhanhe-transport-2020.json");
export const exampleText = await readFile(examplePath, "utf8");
export const EXAMPLE_AGENCY = "湛河区交通运输局";

/** A fresh copy of the example envelope to change. */
export function example(): { template: string; data: Record<string, unknown>; options?: Record<string, unknown> } {
  return JSON.parse(exampleText) as ReturnType<typeof example>;
}

export interface TestService extends LocalService {
  /** Every log line written, parsed. */
  logs: Record<string, unknown>[];
  dir: string;
  /**
   * Another service on the same S3 (a Lambda function's, say, to call its handlers directly), with
   * its own renderer and fence: stop() closes them too.
   */
  newService(config?: ServiceConfig, log?: Logger): Service;
  stop(): Promise<void>;
}

/** The local service (`npm start`) on free loopback ports, its S3 data in a temp dir. */
export async function startTestService(config: ConfigOverrides = {}): Promise<TestService> {
  const dir = await mkdtemp(join(tmpdir(), "report-render-service-"));
  const logs: Record<string, unknown>[] = [];
  const log = createLogger("debug", (line) => logs.push(JSON.parse(line) as Record<string, unknown>));
  const local = await startLocal({ port: 0, s3Port: 0, dataDir: join(dir, "s3"), config, log });
  const others: Service[] = [];
  return {
    ...local,
    logs,
    dir,
    newService(serviceConfig = local.config, serviceLog = createLogger("silent")) {
      const other = createService(serviceConfig, serviceLog);
      others.push(other);
      return other;
    },
    async stop() {
      for (const other of others) await Promise.all([other.renderer.close(), other.fence.close()]);
      await local.close();
      await rm(dir, { recursive: true, force: true });
    },
  };
}

export async function postJson(url: string, body: unknown, headers: Record<string, string> = {}): Promise<Response> {
  return fetch(url, {
    method: "POST",
    headers: { "content-type": "application/json", ...headers },
    body: typeof body === "string" ? body : JSON.stringify(body),
    redirect: "manual",
  });
}

export async function bytesOf(response: Response): Promise<Uint8Array> {
  return new Uint8Array(await response.arrayBuffer());
}

/** Poll `check` until it returns a value, or fail after `timeoutMs`. */
export async function waitFor<T>(check: () => Promise<T | undefined>, timeoutMs = 30_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await check();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error("timed out waiting");
    await new Promise((r) => setTimeout(r, 100));
  }
}

import { once } from "node:events";
import { connect } from "node:net";
import { afterAll, beforeAll, expect, it, vi } from "vitest";
import type { Renderer, RendererOptions, RenderRun } from "../../functions/core/render.ts";
import { startTestService, type TestService, waitFor } from "../helpers/local-service.ts";

// A client that hangs up: the node:http adapter aborts the request's signal, and the handler hands it
// to the renderer. The renderer's render is replaced here, for envelopes marked { hold }, by one that
// waits for that signal, so what is tested is the plumbing, whatever the core then does with it.
const held = vi.hoisted(() => {
  const runs: { signal?: AbortSignal; outcome?: "aborted" | "no signal" | "timed out" }[] = [];
  /** Waits for the request's signal instead of rendering. */
  const hold = (signal: AbortSignal | undefined): Promise<never> => {
    const entry: (typeof runs)[number] = { signal };
    runs.push(entry);
    return new Promise((_resolve, reject) => {
      if (!signal) {
        entry.outcome = "no signal";
        return reject(new Error("render got no signal"));
      }
      const timer = setTimeout(() => {
        entry.outcome = "timed out";
        reject(new Error("the signal never aborted"));
      }, 20_000);
      signal.addEventListener(
        "abort",
        () => {
          clearTimeout(timer);
          entry.outcome = "aborted";
          reject(signal.reason);
        },
        { once: true },
      );
    });
  };
  return { runs, hold };
});

vi.mock("../../functions/core/render.ts", async (importOriginal) => {
  const real = await importOriginal<typeof import("../../functions/core/render.ts")>();
  return {
    ...real,
    createRenderer(options: RendererOptions): Renderer {
      const renderer = real.createRenderer(options);
      const isHeld = (input: unknown) => typeof input === "object" && input !== null && "hold" in input;
      return {
        ...renderer,
        render: (input: unknown, run?: RenderRun) =>
          isHeld(input) ? held.hold(run?.signal) : renderer.render(input, run),
      };
    },
  };
});

let service: TestService;
beforeAll(async () => {
  service = await startTestService();
});
afterAll(() => service?.stop());

it("a client that hangs up mid-render aborts the signal the renderer was given; logged 499", async () => {
  const before = service.logs.length;
  const gone = new AbortController();
  const request = fetch(`${service.url}/v1/render`, {
    method: "POST",
    headers: { "content-type": "application/json", accept: "application/pdf" },
    body: JSON.stringify({ hold: true }),
    signal: gone.signal,
  });
  request.catch(() => undefined);
  const run = await waitFor(async () => held.runs[0], 10_000);
  expect(run.signal).toBeInstanceOf(AbortSignal);
  expect(run.signal?.aborted).toBe(false);

  gone.abort();
  await expect(request).rejects.toThrow();
  await waitFor(async () => run.outcome, 10_000);
  expect(run.outcome).toBe("aborted");

  const line = await waitFor(async () => service.logs.slice(before).find((l) => l.message === "http.request"), 10_000);
  expect(line).toMatchObject({ path: "/v1/render", status: 499, aborted: true });
  expect(service.logs.slice(before).filter((l) => l.level === "ERROR")).toEqual([]);
  expect((await fetch(`${service.url}/health`)).status).toBe(200);
});

it("a request cut off while its body is being sent never reaches the handler and breaks nothing", async () => {
  const before = service.logs.length;
  const stderr = vi.spyOn(process.stderr, "write");
  const { hostname, port } = new URL(service.url);
  const head = [
    "POST /v1/render HTTP/1.1",
    `Host: 127.0.0.1:${port}`,
    "Content-Type: application/json",
    "Content-Length: 100000",
    "",
    '{"template": "gov-',
  ];
  const socket = connect(Number(port), hostname);
  await once(socket, "connect");
  socket.write(head.join("\r\n"));
  await new Promise((r) => setTimeout(r, 200));
  socket.destroy();
  await once(socket, "close");
  await new Promise((r) => setTimeout(r, 200));

  expect((await fetch(`${service.url}/health`)).status).toBe(200);
  expect(service.logs.slice(before).filter((l) => l.message === "http.request" && l.path === "/v1/render")).toEqual([]);
  expect(stderr.mock.calls.filter(([text]) => String(text).includes("local http adapter"))).toEqual([]);
  stderr.mockRestore();
});

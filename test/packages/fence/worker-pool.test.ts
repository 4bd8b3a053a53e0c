import { Worker } from "node:worker_threads";
import { describe, expect, it } from "vitest";
import {
  createWorkerPool,
  TaskCrashed,
  TaskFailed,
  TaskTimeout,
  threadLimits,
} from "../../../functions/packages/fence/worker-pool.ts";

// The fence's pool on threads of a few lines: a task that never yields is stopped by its time limit,
// one that eats memory by its heap, one whose caller gives up by the abort; the next task gets a new
// thread, and tasks wait their turn for a thread.

const THREAD = `
const { parentPort } = require("node:worker_threads");
parentPort.on("message", ({ id, task }) => {
  if (task === "spin") for (;;) {}
  if (task === "eat") { const kept = []; for (;;) kept.push(new Array(100000).fill(kept.length)); }
  if (task === "fail") return parentPort.postMessage({ id, ok: false, error: { why: "no" } });
  const started = Date.now();
  if (typeof task === "number") { const until = Date.now() + task; while (Date.now() < until) {} }
  parentPort.postMessage({ id, ok: true, value: { task, thread: require("node:worker_threads").threadId, started, ended: Date.now() } });
});
parentPort.postMessage({ ready: true });
`;

const pool = (size = 1, heapMb?: number) =>
  createWorkerPool({
    size,
    start: () => new Worker(THREAD, { eval: true, ...(heapMb ? { resourceLimits: threadLimits(heapMb) } : {}) }),
  });

describe("the fence's worker pool", () => {
  it("runs tasks on a thread and answers each with its value", async () => {
    const p = pool();
    const answer = await p.run<{ task: string }>("hello", { timeoutMs: 10_000 });
    expect(answer.task).toBe("hello");
    await p.close();
  });

  it("a task that never yields is stopped at its time limit; the next gets a new thread", async () => {
    const p = pool();
    const first = await p.run<{ thread: number }>("a", { timeoutMs: 10_000 });
    const started = performance.now();
    await expect(p.run("spin", { timeoutMs: 300 })).rejects.toBeInstanceOf(TaskTimeout);
    // A runaway guard: stopped at 0.3 s, not whenever the loop would end (never).
    expect(performance.now() - started).toBeLessThan(10_000);
    const next = await p.run<{ thread: number }>("b", { timeoutMs: 10_000 });
    expect(next.thread).not.toBe(first.thread);
    await p.close();
  });

  it("a task past its thread's heap fails as out of memory, and the pool goes on", async () => {
    const p = pool(1, 64);
    const failure = await p.run("eat", { timeoutMs: 60_000 }).catch((e: unknown) => e);
    expect(failure).toBeInstanceOf(TaskCrashed);
    expect((failure as TaskCrashed).outOfMemory).toBe(true);
    await expect(p.run<{ task: string }>("after", { timeoutMs: 10_000 })).resolves.toMatchObject({ task: "after" });
    await p.close();
  });

  it("an abort stops the task under way (its thread terminated) and takes a waiting one out of the queue", async () => {
    const p = pool(1);
    const running = new AbortController();
    const waiting = new AbortController();
    const first = p.run("spin", { timeoutMs: 60_000, signal: running.signal });
    const second = p.run("never", { timeoutMs: 60_000, signal: waiting.signal });
    waiting.abort(new Error("gone"));
    await expect(second).rejects.toThrow("gone");
    running.abort(new Error("stopped"));
    await expect(first).rejects.toThrow("stopped");
    expect(p.threads).toBe(0);
    await expect(p.run<{ task: string }>("then", { timeoutMs: 10_000 })).resolves.toMatchObject({ task: "then" });
    await p.close();
  });

  it("tasks wait for a thread: two threads, four tasks of 200 ms, two at a time", async () => {
    const p = pool(2);
    await Promise.all([p.run(1, { timeoutMs: 10_000 }), p.run(1, { timeoutMs: 10_000 })]); // both started
    type Ran = { thread: number; started: number; ended: number };
    const answers = await Promise.all([200, 200, 200, 200].map((ms) => p.run<Ran>(ms, { timeoutMs: 10_000 })));
    expect(new Set(answers.map((a) => a.thread)).size).toBe(2);
    expect(p.threads).toBe(2);
    // At any moment at most two ran, and at some moment two did.
    const under = (t: number) => answers.filter((a) => a.started <= t && t < a.ended).length;
    const moments = answers.map((a) => a.started);
    expect(Math.max(...moments.map(under))).toBe(2);
    await p.close();
  });

  it("a task that cannot be sent to a thread fails; the thread stays free for the next", async () => {
    const p = pool(1);
    await expect(p.run(() => 1, { timeoutMs: 10_000 })).rejects.toThrow();
    await expect(p.run<{ task: string }>("next", { timeoutMs: 10_000 })).resolves.toMatchObject({ task: "next" });
    await p.close();
  });

  it("a thread's own failure reaches the caller as it described it; the thread stays", async () => {
    const p = pool(1);
    const before = await p.run<{ thread: number }>("x", { timeoutMs: 10_000 });
    const failure = await p.run("fail", { timeoutMs: 10_000 }).catch((e: unknown) => e);
    expect(failure).toBeInstanceOf(TaskFailed);
    expect((failure as TaskFailed).error).toEqual({ why: "no" });
    expect((await p.run<{ thread: number }>("y", { timeoutMs: 10_000 })).thread).toBe(before.thread);
    await p.close();
  });

  it("a closed pool refuses work", async () => {
    const p = pool(1);
    await p.close();
    await expect(p.run("x", { timeoutMs: 1000 })).rejects.toThrow("closed");
  });
});

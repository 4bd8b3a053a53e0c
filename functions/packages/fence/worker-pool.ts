import type { Worker, ResourceLimits, Transferable } from "node:worker_threads";

/**
 * A few worker threads that run work which must not hold the process: each task runs on one
 * thread, alone, within a time limit and the thread's own heap limit. A task that overruns either,
 * or whose caller gives up, has its thread terminated (V8 stops it wherever it is, even in a loop
 * that never yields), and the next task gets a new thread. The event loop of the process never runs
 * the work, so it keeps answering meanwhile.
 *
 * The protocol with a thread: it says `{ ready: true }` once it has loaded its modules (a task's time
 * counts from then: a thread's start is not the task's doing), then receives `{ id, task }` and
 * answers `{ id, ok: true, value }` or `{ id, ok: false, error }` for each, one task at a time.
 */

export interface WorkerPoolOptions {
  /** The module each thread runs, and what it is started with. */
  start: () => Worker;
  /** Threads at most (each started on first need). */
  size: number;
}

export interface TaskOptions {
  /** Past this, the task's thread is terminated and the task fails with a TaskTimeout. */
  timeoutMs: number;
  /** Aborting it terminates the task's thread (or takes the task out of the queue) and fails it with the signal's reason. */
  signal?: AbortSignal;
  transfer?: readonly Transferable[];
}

/** A task that ran past its time. */
export class TaskTimeout extends Error {
  constructor(readonly ms: number) {
    super(`the work ran longer than ${ms / 1000} s`);
    this.name = "TaskTimeout";
  }
}

/** A task whose thread ran out of its heap (resourceLimits), or died under it. */
export class TaskCrashed extends Error {
  constructor(
    message: string,
    readonly outOfMemory: boolean,
  ) {
    super(message);
    this.name = "TaskCrashed";
  }
}

/** What a thread answered for a task that failed (its own error, described). */
export class TaskFailed extends Error {
  constructor(readonly error: unknown) {
    super("the task failed in its worker thread");
    this.name = "TaskFailed";
  }
}

export interface WorkerPool {
  run<T>(task: unknown, options: TaskOptions): Promise<T>;
  /** Threads running now (started and not yet ended). */
  readonly threads: number;
  /** Ends every thread; queued tasks fail. */
  close(): Promise<void>;
}

interface Queued {
  task: unknown;
  options: TaskOptions;
  resolve: (value: unknown) => void;
  reject: (error: unknown) => void;
  /** Stops listening for an abort while queued (the task under way listens for itself). */
  dequeued: () => void;
}

interface Thread {
  worker: Worker;
  busy: boolean;
  /** Resolved when the thread has said it is ready. */
  ready: Promise<void>;
  /** The answer handler of the task under way. */
  settle?: (answer: Answer | Error) => void;
}

type Answer = { id: number; ok: true; value: unknown } | { id: number; ok: false; error: unknown };

/** How long a thread may take to load its modules: one that never says it is ready is ended. */
const STARTUP_MS = 60_000;

/** Resource limits for a thread that runs untrusted templating: a heap of `heapMb`, a stack of 4 MB. */
export function threadLimits(heapMb: number): ResourceLimits {
  return { maxOldGenerationSizeMb: heapMb, maxYoungGenerationSizeMb: Math.min(32, heapMb / 4), stackSizeMb: 4 };
}

export function createWorkerPool(options: WorkerPoolOptions): WorkerPool {
  const threads: Thread[] = [];
  const queue: Queued[] = [];
  let nextId = 1;
  let closed = false;

  const startThread = (): Thread => {
    const worker = options.start();
    let ready = () => {};
    const thread: Thread = { worker, busy: false, ready: new Promise((resolve) => (ready = resolve)) };
    const startup = setTimeout(() => void worker.terminate(), STARTUP_MS);
    startup.unref();
    worker.on("message", (message: Answer | { ready: true }) => {
      if ("ready" in message) {
        clearTimeout(startup);
        ready();
      } else thread.settle?.(message);
    });
    worker.on("error", (e: Error & { code?: string }) => {
      const outOfMemory = e.code === "ERR_WORKER_OUT_OF_MEMORY";
      thread.settle?.(new TaskCrashed(outOfMemory ? "the work ran out of memory" : e.message, outOfMemory));
    });
    worker.on("exit", () => {
      clearTimeout(startup);
      remove(thread);
      thread.settle?.(new TaskCrashed("the worker thread ended under the work", false));
    });
    // An idle thread never keeps the process alive (the doors decide when it ends); one with a task
    // does, as any pending work would. After the listeners: adding one refs the thread again.
    worker.unref();
    threads.push(thread);
    return thread;
  };

  const remove = (thread: Thread) => {
    const at = threads.indexOf(thread);
    if (at >= 0) threads.splice(at, 1);
  };

  const pump = () => {
    while (queue.length > 0) {
      let thread: Thread | undefined;
      try {
        thread = threads.find((t) => !t.busy) ?? (threads.length < options.size ? startThread() : undefined);
      } catch (e) {
        // No thread can start (its module is missing, say): the task waiting fails, not the pool.
        const job = queue.shift() as Queued;
        job.dequeued();
        job.reject(e);
        continue;
      }
      if (!thread) return;
      const job = queue.shift() as Queued;
      job.dequeued();
      runOn(thread, job);
    }
  };

  const runOn = (thread: Thread, job: Queued) => {
    const { task, options: taskOptions } = job;
    const { signal, timeoutMs } = taskOptions;
    const id = nextId++;
    thread.busy = true;
    thread.worker.ref();
    let timer: NodeJS.Timeout | undefined;
    const onAbort = () => finish(signal?.reason ?? new Error("the work was aborted"), true);
    const finish = (outcome: Answer | Error | unknown, kill: boolean) => {
      if (thread.settle === undefined) return;
      thread.settle = undefined;
      clearTimeout(timer);
      signal?.removeEventListener("abort", onAbort);
      if (kill) {
        // Stopped where it is; its replacement starts with the next task.
        remove(thread);
        void thread.worker.terminate();
      } else {
        thread.busy = false;
        thread.worker.unref();
      }
      if (isAnswer(outcome)) {
        if (outcome.ok) job.resolve(outcome.value);
        else job.reject(new TaskFailed(outcome.error));
      } else {
        job.reject(outcome);
      }
      pump();
    };
    thread.settle = (answer) => {
      if (answer instanceof Error) finish(answer, true);
      else if (answer.id === id) finish(answer, false);
    };
    signal?.addEventListener("abort", onAbort, { once: true });
    try {
      thread.worker.postMessage({ id, task }, taskOptions.transfer ?? []);
    } catch (e) {
      // A task that cannot be sent (a value that does not clone): it fails, the thread is free.
      finish(e, false);
      return;
    }
    void thread.ready.then(() => {
      if (thread.settle !== undefined) timer = setTimeout(() => finish(new TaskTimeout(timeoutMs), true), timeoutMs);
    });
  };

  return {
    run<T>(task: unknown, taskOptions: TaskOptions): Promise<T> {
      if (closed) return Promise.reject(new Error("the worker pool is closed"));
      const { signal } = taskOptions;
      if (signal?.aborted) return Promise.reject(signal.reason);
      return new Promise<T>((resolve, reject) => {
        // Waiting for a thread is part of the caller's time: an abort takes the task out of the queue.
        const onAbort = () => {
          const at = queue.indexOf(job);
          if (at >= 0) {
            queue.splice(at, 1);
            reject(signal?.reason);
          }
        };
        const dequeued = () => signal?.removeEventListener("abort", onAbort);
        const job: Queued = { task, options: taskOptions, resolve: resolve as (v: unknown) => void, reject, dequeued };
        signal?.addEventListener("abort", onAbort, { once: true });
        queue.push(job);
        pump();
      });
    },
    get threads() {
      return threads.length;
    },
    async close() {
      closed = true;
      for (const job of queue.splice(0)) job.reject(new Error("the worker pool is closed"));
      await Promise.all(threads.splice(0).map((t) => t.worker.terminate()));
    },
  };
}

function isAnswer(value: unknown): value is Answer {
  return typeof value === "object" && value !== null && "id" in value && "ok" in value;
}

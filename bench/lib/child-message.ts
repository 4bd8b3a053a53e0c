import type { ChildProcess } from "node:child_process";

/** The next message `child` sends; rejected if it exits first. */
export function nextMessage<T>(child: ChildProcess): Promise<T> {
  return new Promise((resolve, reject) => {
    const onMessage = (message: T) => {
      child.off("exit", onExit);
      resolve(message);
    };
    const onExit = (code: number | null) => {
      child.off("message", onMessage);
      reject(new Error(`a bench child exited (${code})`));
    };
    child.once("message", onMessage);
    child.once("exit", onExit);
  });
}

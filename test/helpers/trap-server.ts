import { createServer } from "node:http";
import type { AddressInfo } from "node:net";

export interface TrapServer {
  /** http://127.0.0.1:<port> */
  base: string;
  /** Requests it has received: a render must never make this more than 0. */
  hits(): number;
  close(): Promise<void>;
}

/** A server on loopback that answers anything (with /etc/passwd-like text) and counts each request. */
export async function startTrapServer(): Promise<TrapServer> {
  let hits = 0;
  const server = createServer((_, res) => {
    hits++;
    res.end("root:x:0:0");
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  return {
    base: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    hits: () => hits,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

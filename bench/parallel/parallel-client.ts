/**
 * The clients of bench/parallel/parallel.ts's endpoint measure, in a process of their own as a service's
 * clients are: the server's event loop then does the server's work only. Told { url, body,
 * inFlight, count }, it posts `body` to `url` `count` times, `inFlight` at a time, and answers the
 * block's times (in-flight.ts). Any answer but a 200 with a body ends it with an error.
 */
import { inFlightBlock } from "./in-flight.ts";

interface Ask {
  url: string;
  body: string;
  inFlight: number;
  count: number;
}

process.on("message", async ({ url, body, inFlight, count }: Ask) => {
  const render = async () => {
    const response = await fetch(url, {
      method: "POST",
      headers: { "content-type": "application/json", accept: "application/pdf" },
      body,
    });
    const pdf = await response.arrayBuffer();
    if (response.status !== 200 || pdf.byteLength === 0) throw new Error(`${url} answered ${response.status}`);
  };
  process.send?.(await inFlightBlock(render, inFlight, count));
});
process.on("disconnect", () => process.exit(0));

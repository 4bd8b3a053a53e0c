/** One render, from the input to the PDF's bytes. */
export type Render = () => Promise<unknown>;

/** When a block of renders started, and when each render completed (performance.now(), in order). */
export interface BlockTimes {
  started: number;
  completed: number[];
}

/** `count` renders, `inFlight` at a time: each client starts another as soon as its last one completes. */
export async function inFlightBlock(render: Render, inFlight: number, count: number): Promise<BlockTimes> {
  const started = performance.now();
  const completed: number[] = [];
  let begun = 0;
  await Promise.all(
    Array.from({ length: inFlight }, async () => {
      while (begun < count) {
        begun++;
        await render();
        completed.push(performance.now());
      }
    }),
  );
  return { started, completed };
}

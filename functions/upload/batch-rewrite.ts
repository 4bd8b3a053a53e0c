import type { BatchUpload } from "../service/storage/keys.ts";
import { type CurrentRun, isCurrent, readRun } from "./batch-run.ts";
import type { BatchContext } from "./context.ts";
import { LINE_TASK_KIND } from "./line-task.ts";

/**
 * Called after writing or deleting line PDFs for `current`. Writes are checked just before they are
 * made, but a newer run can take over in between: then what was written may stand over the newer
 * run's PDF of the line, or have deleted it. The newer run's tasks for those lines are sent again as
 * rewrites, which make each PDF what the newer run says (identical input renders identical bytes).
 */
export async function rewriteIfSuperseded(
  ctx: BatchContext,
  target: BatchUpload,
  current: CurrentRun,
  lines: number[],
): Promise<void> {
  if (lines.length === 0 || (await isCurrent(ctx, target, current))) return;
  const newer = await readRun(ctx, target);
  if (!newer) return;
  ctx.log.info("upload.superseded", {
    key: target.inputKey,
    runId: current.run.runId,
    latestRunId: newer.run.runId,
    when: "after writing",
    lines: lines.length,
  });
  const { runId, source } = newer.run;
  await ctx.lineTasks.send(
    lines.map((line) => ({
      kind: LINE_TASK_KIND,
      key: target.inputKey,
      eTag: source.eTag,
      runId,
      line,
      rewrite: true,
    })),
  );
}

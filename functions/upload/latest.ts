import { type Failure, internalFailure } from "../service/failure.ts";
import { since } from "../service/log.ts";
import type { Source, UploadContext } from "./context.ts";
import { type Input, readInput } from "./read-input.ts";

/**
 * Rounds of "a newer version was uploaded while this one was processed: start over with it" before
 * the message goes back to the queue. Each newer version also has a message of its own, so more
 * rounds than this means the input is being rewritten faster than it renders.
 */
export const MAX_ROUNDS = 3;

/** One round: one version of the input, read just now. */
export interface Round {
  /** The latest version when it was read (GET returns the latest). */
  input: Input;
  /** When the round started (before the GET), for totalMs. */
  started: number;
  downloadMs: number;
  /**
   * An earlier round wrote outputs for a version that turned out not to be the latest, maybe over
   * this one's: write them again even if they say this version was answered already.
   */
  redo: boolean;
  /**
   * Await this just before writing outputs (and again before each later write that comes after a
   * wait): if the input is no longer this version it throws, which ends the round without writing,
   * so an older version never writes over a newer one.
   */
  beforeWrite(): Promise<void>;
}

export interface LatestWork {
  /** The size limit the input is read with. */
  maxBytes: number;
  /**
   * Process `round.input`: return if its outputs already record its ETag (unless `round.redo`), else
   * render it and write its outputs, the final file (result, error, summary, job state) last.
   */
  round(round: Round): Promise<void>;
  /**
   * Write `failure` as the answer for `source`: what is left when the last attempt failed. Replaces
   * whatever outputs an earlier version left, like a refused input does.
   */
  answer(failure: Failure, source: Source): Promise<void>;
}

/** Thrown by `beforeWrite` to end a round: the input changed (`latest`: its ETag now) or is gone. */
class Superseded extends Error {
  constructor(readonly latest: string | undefined) {
    super(latest === undefined ? "the input is gone" : `the input is now version ${latest}`);
  }
}

/**
 * Process the input at `inputKey` until what is written is the latest version's answer, and leave an
 * answer on the last attempt whatever fails.
 *
 * The latest version wins: several messages may process one key at once (a new version uploaded while
 * an older one renders; Lambda runs them side by side, as does the local queue). So the input is
 * HEADed just before outputs are written, and an older version does not write; and once more after the
 * final file, because a newer version may have been answered between that HEAD and our writes, which
 * we then overwrote. Either way it starts over with the latest version, whose "already answered"
 * check reads the source ETag the final file records, so it converges: the last round to write
 * writes the latest version. A deleted input stops it (its outputs stay as they are).
 *
 * Nothing is left unanswered: not on the last attempt, any error is thrown for SQS to try again; on
 * the last attempt (ctx.lastAttempt) it is written as the answer (an `internal` failure) for the
 * version this message was about, unless that is no longer the latest (the newer one's own message
 * answers it). If writing the answer fails too, the original error is thrown.
 */
export async function processLatest(ctx: UploadContext, inputKey: string, work: LatestWork): Promise<void> {
  const state: { source?: Source; dirty: boolean } = { dirty: false };
  try {
    await rounds(ctx, inputKey, work, state);
  } catch (e) {
    if (!ctx.lastAttempt) throw e;
    await answerFinally(ctx, inputKey, work, e, state);
  }
}

async function rounds(
  ctx: UploadContext,
  inputKey: string,
  work: LatestWork,
  state: { source?: Source; dirty: boolean },
): Promise<void> {
  const { storage, config } = ctx.service;
  const headETag = async () => (await storage.head(config.inputBucket, inputKey))?.eTag;
  let redo = false;
  for (let round = 1; ; round++) {
    const started = performance.now();
    const input = await readInput(ctx, inputKey, work.maxBytes);
    if (!input) return ctx.log.warn("upload.gone", { key: inputKey });
    const { eTag } = input.source;
    state.source = input.source;
    let wrote = false;
    const beforeWrite = async () => {
      const latest = await headETag();
      if (latest !== eTag) throw new Superseded(latest);
      wrote = true;
      state.dirty = true;
    };

    let latest: string | undefined;
    let when: "before writing" | "after writing";
    try {
      await work.round({ input, started, downloadMs: since(started), redo, beforeWrite });
      if (!wrote) return; // answered already: nothing written, nothing to check
      latest = await headETag();
      if (latest === eTag) {
        state.dirty = false;
        return;
      }
      when = "after writing";
    } catch (e) {
      if (!(e instanceof Superseded)) throw e;
      latest = e.latest;
      when = "before writing";
    }
    if (latest === undefined) return ctx.log.warn("upload.gone", { key: inputKey });
    // What we wrote may stand over the latest version's answer: it must be written again.
    redo ||= wrote;
    ctx.log.info("upload.superseded", { key: inputKey, eTag, latestETag: latest, when, wrote, round });
    if (round >= MAX_ROUNDS) {
      throw new Error(`${inputKey} was replaced by a newer version ${MAX_ROUNDS} times while it was processed`);
    }
  }
}

async function answerFinally(
  ctx: UploadContext,
  inputKey: string,
  work: LatestWork,
  error: unknown,
  state: { source?: Source; dirty: boolean },
): Promise<void> {
  const { storage, config } = ctx.service;
  ctx.log.error("upload.failed_finally", { key: inputKey, error });
  ctx.service.metrics.failed("internal");
  try {
    const head = await storage.head(config.inputBucket, inputKey);
    if (!head) return ctx.log.warn("upload.gone", { key: inputKey });
    // The version this message was about: the one last read, else the one the notification announced.
    const ours = state.source?.eTag ?? ctx.eTag;
    if (ours !== undefined && ours !== head.eTag) {
      // A newer version has its own message. Unless we wrote over its outputs: then this must not
      // pass quietly (the message goes to the dead-letter queue).
      if (state.dirty) throw error;
      return ctx.log.info("upload.superseded", { key: inputKey, eTag: ours, latestETag: head.eTag, when: "failed" });
    }
    await work.answer(internalFailure(ctx.messageId), { bucket: config.inputBucket, key: inputKey, eTag: head.eTag });
    ctx.log.warn("upload.answered_internal", { key: inputKey, eTag: head.eTag });
  } catch (answerError) {
    if (answerError !== error) ctx.log.error("upload.answer_failed", { key: inputKey, error: answerError });
    throw error;
  }
}

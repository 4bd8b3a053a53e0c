import type { Logger } from "../service/log.ts";
import type { Service } from "../service/service.ts";
import type { LineTaskQueue } from "./line-queue.ts";

/** One created object being processed. */
export interface UploadContext {
  service: Service;
  log: Logger;
  /** The SQS message id: what an operator finds this work by. */
  messageId: string;
  /**
   * Whether SQS will not deliver this message again. Then an unexpected failure is written as the
   * upload's answer (an "internal" error) instead of being left for a retry that will not come.
   */
  lastAttempt: boolean;
  /** The ETag of the version the notification announced (without quotes), when it carries one. */
  eTag?: string;
  /** When work that may wait (a callback's retries) must have stopped (ms since the epoch; Lambda's end less a margin). */
  deadline?: number;
}

/** Where an output came from: the object and the version of it (ETag) that was rendered. */
export interface Source {
  bucket: string;
  key: string;
  eTag: string;
}

/** A batch's split step, line tasks and finishing step: an upload's context, plus the line queue. */
export interface BatchContext extends UploadContext {
  lineTasks: LineTaskQueue;
}

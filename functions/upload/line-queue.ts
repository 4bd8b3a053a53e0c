import { GetQueueUrlCommand, SendMessageBatchCommand, SQSClient } from "@aws-sdk/client-sqs";
import pLimit from "p-limit";
import { ENV, type ServiceConfig } from "../service/settings.ts";
import { captureAwsClient } from "../service/tracing.ts";
import { type LineTask, lineTaskBody } from "./line-task.ts";

/**
 * Where a batch's line tasks go: the line queue on AWS, the in-process queue under `npm start`
 * (functions/local/upload-queue.ts). Either way each task comes back to the upload handler as an
 * SQS message of its own, so many invocations render a batch's lines at once.
 */
export interface LineTaskQueue {
  /** Resolves once every task is accepted by the queue; throws if any was not. */
  send(tasks: LineTask[]): Promise<void>;
}

/** SQS's most messages in one SendMessageBatch. */
const SQS_BATCH = 10;
/** SendMessageBatch calls at once: 1,000 lines are 100 calls, about a second. */
const SENDS_AT_ONCE = 10;

/**
 * The line queue on AWS, found by its name (ENV.batchLineQueueName, set by the stack). The URL is
 * asked for once, on the first batch, so a function that never splits a batch never calls SQS.
 */
export function sqsLineQueue(config: ServiceConfig): LineTaskQueue {
  const client = captureAwsClient(new SQSClient({ region: config.s3.region }));
  let queueUrl: Promise<string> | undefined;
  const urlOf = (name: string) =>
    client.send(new GetQueueUrlCommand({ QueueName: name })).then((out) => {
      if (!out.QueueUrl) throw new Error(`SQS has no URL for the queue ${name}`);
      return out.QueueUrl;
    });

  return {
    async send(tasks) {
      const name = config.batchLineQueueName;
      if (!name) throw new Error(`${ENV.batchLineQueueName} is not set: batch lines have no queue to go to`);
      queueUrl ??= urlOf(name).catch((e: unknown) => {
        queueUrl = undefined; // ask again next time
        throw e;
      });
      const url = await queueUrl;
      const limit = pLimit(SENDS_AT_ONCE);
      const chunks: LineTask[][] = [];
      for (let i = 0; i < tasks.length; i += SQS_BATCH) chunks.push(tasks.slice(i, i + SQS_BATCH));
      await Promise.all(chunks.map((chunk) => limit(() => sendChunk(client, url, chunk))));
    },
  };
}

/** One SendMessageBatch, and the entries SQS did not take sent once more; throws if any is still refused. */
async function sendChunk(client: SQSClient, url: string, chunk: LineTask[]): Promise<void> {
  let entries = chunk.map((task, i) => ({ Id: String(i), MessageBody: lineTaskBody(task) }));
  for (let attempt = 1; entries.length > 0; attempt++) {
    const out = await client.send(new SendMessageBatchCommand({ QueueUrl: url, Entries: entries }));
    const failed = new Set((out.Failed ?? []).map((f) => f.Id));
    entries = entries.filter((entry) => failed.has(entry.Id));
    if (entries.length > 0 && attempt >= 2) {
      const reason = out.Failed?.[0];
      throw new Error(`SQS refused ${entries.length} line tasks (${reason?.Code}: ${reason?.Message})`);
    }
  }
}

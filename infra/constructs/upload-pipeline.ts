import { createHash } from "node:crypto";
import { Duration } from "aws-cdk-lib";
import { PolicyStatement } from "aws-cdk-lib/aws-iam";
import type { IFunction } from "aws-cdk-lib/aws-lambda";
import { SqsEventSource } from "aws-cdk-lib/aws-lambda-event-sources";
import { EventType, type Bucket } from "aws-cdk-lib/aws-s3";
import { SqsDestination } from "aws-cdk-lib/aws-s3-notifications";
import { Queue, QueueEncryption } from "aws-cdk-lib/aws-sqs";
import { Construct } from "constructs";
import { DEFAULTS } from "../../functions/service/settings.ts";
import { INCOMING_PREFIX, JOBS_PREFIX } from "../../functions/service/storage/keys.ts";
import { LINE_TASKS_PER_INVOCATION } from "../../functions/upload/line-task.ts";

/** The properties of {@link UploadPipeline}. */
export interface UploadPipelineProps {
  /**
   * The bucket whose new uploads and job requests (`UPLOAD_FILTERS`) are sent to the queue.
   *
   * Required.
   */
  readonly input: Bucket;
  /**
   * The upload function: the consumer of both queues, and the sender of line tasks.
   *
   * Required.
   */
  readonly handler: IFunction;
  /**
   * The upload function's timeout, s; a received message stays invisible `VISIBILITY_TIMEOUT_FACTOR`
   * times that.
   *
   * Required.
   */
  readonly handlerTimeoutSeconds: number;
  /**
   * Receives of a message before it goes to its dead-letter queue. Give the function the same
   * number (`ENV.maxReceiveCount`), so it knows its last attempt.
   *
   * @default - the functions' default, `DEFAULTS.maxReceiveCount` (3)
   */
  readonly maxReceiveCount?: number;
  /**
   * Invocations the upload queue's event source starts at once (SQS maxConcurrency, 2–1000).
   *
   * @default - none: as many as Lambda's concurrency allows
   */
  readonly maxConcurrency?: number;
  /**
   * The line queue's name, which the function is given (`ENV.batchLineQueueName`) to find it by:
   * see `batchLineQueueName`.
   *
   * Required.
   */
  readonly lineQueueName: string;
  /**
   * Invocations the line queue's event source starts at once (SQS maxConcurrency, 2–1000).
   *
   * @default - none: as many as Lambda's concurrency allows
   */
  readonly lineMaxConcurrency?: number;
}

/**
 * The objects created in the input bucket that are work: uploads and job requests
 * (functions/service/storage/keys.ts `classifyInputKey`). Anything else under them is ignored by the
 * handler; nothing outside them reaches the queue at all.
 */
const UPLOAD_FILTERS = [
  { prefix: INCOMING_PREFIX, suffix: ".json" },
  { prefix: INCOMING_PREFIX, suffix: ".jsonl" },
  { prefix: JOBS_PREFIX, suffix: ".json" },
];

/**
 * A received message stays hidden six times the function's timeout, as AWS advises for a queue that
 * invokes a function: while Lambda throttles the function (no reserved concurrency, or the account's
 * limit reached) the poller keeps the messages it received in flight and retries the invocation;
 * a shorter timeout lets them come back meanwhile and count receives they never had, and good uploads
 * end in the dead-letter queue. The cost: a failed attempt is tried again only after that time
 * (18 minutes with the default 180 s).
 */
const VISIBILITY_TIMEOUT_FACTOR = 6;

/** SQS's longest queue name. */
const MAX_QUEUE_NAME = 80;

/**
 * The line queue's name: the stack's, so that copies of the stack side by side have their own.
 * A name the stack knows at synth time rather than a reference: the function is given a plain
 * string (the same in the artifact test as on AWS) and asks SQS for the URL once. Shortened with a
 * hash of the whole name when the stack's name is long.
 */
export function batchLineQueueName(stackName: string): string {
  const suffix = "-batch-lines";
  if (stackName.length + suffix.length <= MAX_QUEUE_NAME) return `${stackName}${suffix}`;
  const hash = createHash("sha256").update(stackName).digest("hex").slice(0, 8);
  return `${stackName.slice(0, MAX_QUEUE_NAME - suffix.length - hash.length - 1)}-${hash}${suffix}`;
}

/**
 * Two queues into the upload function, each with its dead-letter queue (kept 14 days for inspection
 * and redrive):
 * - uploads: S3 ObjectCreated → SQS → one message per invocation;
 * - lines: a batch's line tasks, which the function itself sends when it splits a batch, two per
 *   invocation. A queue of their own rather than a message kind on the uploads queue: a batch of
 *   1,000 lines must not queue ahead of single uploads and jobs, each queue gets its own
 *   concurrency cap (lines want many instances, uploads few), and a dead letter says which it was.
 * A message whose work failed (reported in batchItemFailures) comes back after the visibility
 * timeout; after `maxReceiveCount` receives it goes to its dead-letter queue.
 */
export class UploadPipeline extends Construct {
  /** The queue of S3 notifications (SQS-managed encryption, TLS only). */
  readonly queue: Queue;
  /** Uploads and job requests that failed every receive, kept 14 days. */
  readonly deadLetterQueue: Queue;
  /** The queue of batch line tasks (SQS-managed encryption, TLS only). */
  readonly lineQueue: Queue;
  /** Line tasks that failed every receive, kept 14 days. */
  readonly lineDeadLetterQueue: Queue;

  constructor(scope: Construct, id: string, props: UploadPipelineProps) {
    super(scope, id);
    const maxReceiveCount = props.maxReceiveCount ?? DEFAULTS.maxReceiveCount;
    const queuePair = (queueId: string, deadLettersId: string, queueName?: string): [Queue, Queue] => {
      const deadLetters = new Queue(this, deadLettersId, {
        encryption: QueueEncryption.SQS_MANAGED,
        enforceSSL: true,
        retentionPeriod: Duration.days(14),
      });
      const queue = new Queue(this, queueId, {
        queueName,
        encryption: QueueEncryption.SQS_MANAGED,
        enforceSSL: true,
        visibilityTimeout: Duration.seconds(props.handlerTimeoutSeconds * VISIBILITY_TIMEOUT_FACTOR),
        retentionPeriod: Duration.days(4),
        deadLetterQueue: { queue: deadLetters, maxReceiveCount },
      });
      return [queue, deadLetters];
    };

    [this.queue, this.deadLetterQueue] = queuePair("Uploads", "DeadLetters");
    const destination = new SqsDestination(this.queue);
    for (const filter of UPLOAD_FILTERS)
      props.input.addEventNotification(EventType.OBJECT_CREATED, destination, filter);
    props.handler.addEventSource(
      new SqsEventSource(this.queue, {
        batchSize: 1,
        reportBatchItemFailures: true,
        maxConcurrency: props.maxConcurrency,
      }),
    );

    [this.lineQueue, this.lineDeadLetterQueue] = queuePair("Lines", "LineDeadLetters", props.lineQueueName);
    props.handler.addEventSource(
      new SqsEventSource(this.lineQueue, {
        batchSize: LINE_TASKS_PER_INVOCATION,
        reportBatchItemFailures: true,
        maxConcurrency: props.lineMaxConcurrency,
      }),
    );
    // The function splits batches into line tasks: it may find this queue by name and send to it.
    props.handler.addToRolePolicy(
      new PolicyStatement({
        sid: "SendBatchLines",
        actions: ["sqs:GetQueueUrl", "sqs:SendMessage"],
        resources: [this.lineQueue.queueArn],
      }),
    );
  }
}

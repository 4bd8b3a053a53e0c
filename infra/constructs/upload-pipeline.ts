import { Duration } from "aws-cdk-lib";
import type { IFunction } from "aws-cdk-lib/aws-lambda";
import { SqsEventSource } from "aws-cdk-lib/aws-lambda-event-sources";
import { EventType, type Bucket } from "aws-cdk-lib/aws-s3";
import { SqsDestination } from "aws-cdk-lib/aws-s3-notifications";
import { Queue, QueueEncryption } from "aws-cdk-lib/aws-sqs";
import { Construct } from "constructs";
import { DEFAULTS } from "../../functions/service/settings.ts";
import { INCOMING_PREFIX, JOBS_PREFIX } from "../../functions/service/storage/keys.ts";

/** The properties of {@link UploadPipeline}. */
export interface UploadPipelineProps {
  /**
   * The bucket whose new uploads and job requests (`UPLOAD_FILTERS`) are sent to the queue.
   *
   * Required.
   */
  readonly input: Bucket;
  /**
   * The upload function: the queue's consumer, one message per invocation.
   *
   * Required.
   */
  readonly handler: IFunction;
  /**
   * The upload function's timeout, s; a received message stays invisible `VISIBILITY_MARGIN_SECONDS`
   * longer than that.
   *
   * Required.
   */
  readonly handlerTimeoutSeconds: number;
  /**
   * Receives of a message before it goes to the dead-letter queue. Give the function the same
   * number (`ENV.maxReceiveCount`), so it knows its last attempt.
   *
   * @default - the functions' default, `DEFAULTS.maxReceiveCount` (3)
   */
  readonly maxReceiveCount?: number;
  /**
   * Invocations the event source starts at once (SQS maxConcurrency, 2–1000).
   *
   * @default - none: as many as Lambda's concurrency allows
   */
  readonly maxConcurrency?: number;
}

/**
 * The objects created in the input bucket that are work: uploads and job requests
 * (functions/service/storage/keys.ts `classifyInputKey`). Anything else under them is ignored by the
 * handler; nothing outside them reaches the queue at all.
 */
export const UPLOAD_FILTERS = [
  { prefix: INCOMING_PREFIX, suffix: ".json" },
  { prefix: INCOMING_PREFIX, suffix: ".jsonl" },
  { prefix: JOBS_PREFIX, suffix: ".json" },
];

/** Seconds a received message stays hidden beyond the function's timeout (init, SQS's own delays). */
export const VISIBILITY_MARGIN_SECONDS = 60;

/**
 * S3 ObjectCreated → SQS → the upload function, one message per invocation. A message whose render
 * failed (reported in batchItemFailures) comes back after the visibility timeout; after
 * `maxReceiveCount` receives it goes to the dead-letter queue, kept 14 days for inspection and redrive.
 */
export class UploadPipeline extends Construct {
  /** The queue of S3 notifications (SQS-managed encryption, TLS only). */
  readonly queue: Queue;
  /** Messages that failed every receive, kept 14 days. */
  readonly deadLetterQueue: Queue;

  constructor(scope: Construct, id: string, props: UploadPipelineProps) {
    super(scope, id);
    this.deadLetterQueue = new Queue(this, "DeadLetters", {
      encryption: QueueEncryption.SQS_MANAGED,
      enforceSSL: true,
      retentionPeriod: Duration.days(14),
    });
    this.queue = new Queue(this, "Uploads", {
      encryption: QueueEncryption.SQS_MANAGED,
      enforceSSL: true,
      visibilityTimeout: Duration.seconds(props.handlerTimeoutSeconds + VISIBILITY_MARGIN_SECONDS),
      retentionPeriod: Duration.days(4),
      deadLetterQueue: {
        queue: this.deadLetterQueue,
        maxReceiveCount: props.maxReceiveCount ?? DEFAULTS.maxReceiveCount,
      },
    });

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
  }
}

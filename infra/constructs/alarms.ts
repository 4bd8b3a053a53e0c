import { Duration } from "aws-cdk-lib";
import { Alarm, ComparisonOperator, type IMetric, MathExpression, TreatMissingData } from "aws-cdk-lib/aws-cloudwatch";
import { SnsAction } from "aws-cdk-lib/aws-cloudwatch-actions";
import type { IFunction } from "aws-cdk-lib/aws-lambda";
import { Topic } from "aws-cdk-lib/aws-sns";
import { EmailSubscription } from "aws-cdk-lib/aws-sns-subscriptions";
import type { IQueue } from "aws-cdk-lib/aws-sqs";
import { Construct } from "constructs";

/** A function whose errors, slow invocations and throttles raise alarms. */
export interface AlarmedFunction {
  /**
   * A short name in PascalCase, part of the alarms' construct ids, names and descriptions (e.g. `Http`).
   *
   * Required.
   */
  readonly name: string;
  /**
   * The function whose Errors, Duration and Throttles metrics are watched.
   *
   * Required.
   */
  readonly function: IFunction;
  /**
   * The function's timeout, s: its p95 Duration raises an alarm past `SLOW_SHARE` of it.
   *
   * Required.
   */
  readonly timeoutSeconds: number;
}

/** A dead-letter queue: any message in it raises an alarm. */
export interface AlarmedQueue {
  /**
   * A short name in PascalCase, part of the alarm's construct id and name (e.g. `DeadLetters`).
   *
   * Required.
   */
  readonly name: string;
  /**
   * The queue whose visible messages (failed every attempt) raise the alarm.
   *
   * Required.
   */
  readonly queue: IQueue;
  /**
   * What a message in it means, for the alarm's description.
   *
   * Required.
   */
  readonly description: string;
}

/** A queue of work: its oldest message waiting too long raises an alarm (SQS drops it at its retention). */
export interface AlarmedWorkQueue {
  /**
   * A short name in PascalCase, part of the alarm's construct id and name (e.g. `Uploads` →
   * `<prefix>-uploads-waiting`).
   *
   * Required.
   */
  readonly name: string;
  /**
   * The queue whose `ApproximateAgeOfOldestMessage` is watched.
   *
   * Required.
   */
  readonly queue: IQueue;
  /**
   * The age, s, past which the oldest message raises the alarm.
   *
   * Required.
   */
  readonly maxAgeSeconds: number;
}

/** Any other metric whose value past a threshold needs someone (the service's own failures, the API's 5xx). */
export interface AlarmedMetric {
  /**
   * A short name in PascalCase, part of the alarm's construct id and name (e.g. `InternalFailures`).
   *
   * Required.
   */
  readonly name: string;
  /**
   * What the alarm means, for its description.
   *
   * Required.
   */
  readonly description: string;
  /**
   * The metric, summed over each 5-minute period.
   *
   * Required.
   */
  readonly metric: IMetric;
}

/** The properties of {@link ServiceAlarms}. */
export interface ServiceAlarmsProps {
  /**
   * The start of every alarm's name (the stack's name), so that copies of the stack side by side
   * have their own: `<prefix>-<what>`, e.g. `ReportRender-http-errors`.
   *
   * Required.
   */
  readonly namePrefix: string;
  /**
   * The dead-letter queues, one alarm each.
   *
   * @default [] - no queue alarms
   */
  readonly deadLetterQueues?: AlarmedQueue[];
  /**
   * Queues of work, one alarm each on the age of their oldest message.
   *
   * @default [] - no age alarms
   */
  readonly workQueues?: AlarmedWorkQueue[];
  /**
   * Other metrics, one alarm each: any count of them in a 5-minute period.
   *
   * @default [] - none
   */
  readonly metrics?: AlarmedMetric[];
  /**
   * The functions, three alarms each (errors, slow, throttled).
   *
   * @default [] - no function alarms
   */
  readonly functions?: AlarmedFunction[];
  /**
   * An e-mail address subscribed to the alarm topic.
   *
   * @default - none: nobody is subscribed; subscribe to `topic` yourself
   */
  readonly alarmEmail?: string;
}

/** A function's p95 Duration above this share of its timeout raises its slow alarm. */
export const SLOW_SHARE = 0.8;

/** One alarm period. */
const PERIOD = Duration.minutes(5);

/** `HttpFunction` → `http-function`: the alarm names' style. */
const kebab = (name: string) => name.replace(/(?<=[a-z0-9])(?=[A-Z])/g, "-").toLowerCase();

/**
 * Alarms that need someone, each named `<prefix>-<what>`, all notifying one topic (on alarm and on
 * OK; the stack's output names it; `alarmEmail` subscribes an address):
 * - `<queue>` (e.g. `dead-letters`, `line-dead-letters`): a message in a dead-letter queue, work that
 *   failed every attempt (one 5-minute period); it stays in ALARM while the queue is not empty;
 * - `<queue>-new`: more messages in that queue than 5 minutes before. It goes back to OK when no more
 *   arrive, so each new dead letter notifies again while the first alarm is still in ALARM;
 * - `<queue>-waiting` (e.g. `uploads-waiting`): the oldest message of a work queue older than its
 *   limit (work is not being done; SQS drops messages at the queue's retention, 4 days);
 * - `<metric>` (e.g. `internal-failures`, `api-server-errors`): any count in a 5-minute period;
 * - `<fn>-errors`: a crash or timeout (refused input is an answer, not an error), in one 5-minute period;
 * - `<fn>-slow`: p95 Duration above 80 % of the timeout in 2 of 3 five-minute periods (a trend toward
 *   timeouts, not one long report);
 * - `<fn>-throttled`: any throttled invocation in a 5-minute period (reserved concurrency reached: an
 *   HTTP caller got a 5xx, or a queue's cap no longer fits).
 */
export class ServiceAlarms extends Construct {
  /** The SNS topic every alarm notifies, on alarm and on OK (TLS-only). */
  readonly topic: Topic;
  /** One alarm per dead-letter queue, in their order. */
  readonly deadLetters: Alarm[];
  /** One alarm per dead-letter queue, in their order: more messages than in the period before. */
  readonly newDeadLetters: Alarm[];
  /** One alarm per work queue, in their order: its oldest message too old. */
  readonly waiting: Alarm[];
  /** One alarm per metric, in their order. */
  readonly metricAlarms: Alarm[];
  /** One alarm per function, in their order: errors. */
  readonly functionErrors: Alarm[];
  /** One alarm per function, in their order: p95 Duration near the timeout. */
  readonly functionSlow: Alarm[];
  /** One alarm per function, in their order: throttles. */
  readonly functionThrottles: Alarm[];
  private readonly action: SnsAction;
  private readonly namePrefix: string;

  constructor(scope: Construct, id: string, props: ServiceAlarmsProps) {
    super(scope, id);
    this.namePrefix = props.namePrefix;
    this.topic = new Topic(this, "Topic", { displayName: "report-render alarms", enforceSSL: true });
    if (props.alarmEmail) this.topic.addSubscription(new EmailSubscription(props.alarmEmail));
    this.action = new SnsAction(this.topic);

    this.deadLetters = (props.deadLetterQueues ?? []).map(({ name, queue, description }) =>
      this.alarm(
        name,
        description,
        queue.metricApproximateNumberOfMessagesVisible({ period: PERIOD, statistic: "Maximum" }),
        1,
      ),
    );
    this.newDeadLetters = (props.deadLetterQueues ?? []).map(({ name, queue, description }) =>
      this.alarm(
        `${name}New`,
        `${description}: more than 5 minutes before`,
        new MathExpression({
          expression: "DIFF(depth)",
          usingMetrics: {
            depth: queue.metricApproximateNumberOfMessagesVisible({ period: PERIOD, statistic: "Maximum" }),
          },
          period: PERIOD,
          label: "new dead letters",
        }),
        1,
      ),
    );
    this.waiting = (props.workQueues ?? []).map(({ name, queue, maxAgeSeconds }) =>
      this.alarm(
        `${name}Waiting`,
        `The oldest message of the ${name} queue has waited over ${maxAgeSeconds} s: its work is not being done (SQS drops messages at the queue's retention)`,
        queue.metricApproximateAgeOfOldestMessage({ period: PERIOD, statistic: "Maximum" }),
        maxAgeSeconds,
        { comparisonOperator: ComparisonOperator.GREATER_THAN_THRESHOLD },
      ),
    );
    this.metricAlarms = (props.metrics ?? []).map(({ name, description, metric }) =>
      this.alarm(name, description, metric, 1),
    );
    const functions = props.functions ?? [];
    this.functionErrors = functions.map(({ name, function: fn }) =>
      this.alarm(
        `${name}Errors`,
        `The ${name} function failed (crash or timeout)`,
        fn.metricErrors({ period: PERIOD, statistic: "Sum" }),
        1,
      ),
    );
    this.functionSlow = functions.map(({ name, function: fn, timeoutSeconds }) =>
      this.alarm(
        `${name}Slow`,
        `The ${name} function's p95 duration is above ${SLOW_SHARE * 100} % of its ${timeoutSeconds} s timeout`,
        fn.metricDuration({ period: PERIOD, statistic: "p95" }),
        Math.round(timeoutSeconds * 1000 * SLOW_SHARE),
        { evaluationPeriods: 3, datapointsToAlarm: 2, comparisonOperator: ComparisonOperator.GREATER_THAN_THRESHOLD },
      ),
    );
    this.functionThrottles = functions.map(({ name, function: fn }) =>
      this.alarm(
        `${name}Throttled`,
        `The ${name} function was throttled: its reserved concurrency was reached`,
        fn.metricThrottles({ period: PERIOD, statistic: "Sum" }),
        1,
      ),
    );
  }

  /** Every alarm, in the order above. */
  get all(): Alarm[] {
    return [
      ...this.deadLetters,
      ...this.newDeadLetters,
      ...this.waiting,
      ...this.metricAlarms,
      ...this.functionErrors,
      ...this.functionSlow,
      ...this.functionThrottles,
    ];
  }

  private alarm(
    id: string,
    description: string,
    metric: IMetric,
    threshold: number,
    options: { evaluationPeriods?: number; datapointsToAlarm?: number; comparisonOperator?: ComparisonOperator } = {},
  ): Alarm {
    const alarm = new Alarm(this, id, {
      alarmName: `${this.namePrefix}-${kebab(id)}`,
      alarmDescription: description,
      metric,
      threshold,
      comparisonOperator: options.comparisonOperator ?? ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
      evaluationPeriods: options.evaluationPeriods ?? 1,
      datapointsToAlarm: options.datapointsToAlarm,
      treatMissingData: TreatMissingData.NOT_BREACHING,
    });
    alarm.addAlarmAction(this.action);
    alarm.addOkAction(this.action);
    return alarm;
  }
}

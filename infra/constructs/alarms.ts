import { Duration } from "aws-cdk-lib";
import { Alarm, ComparisonOperator, TreatMissingData } from "aws-cdk-lib/aws-cloudwatch";
import { SnsAction } from "aws-cdk-lib/aws-cloudwatch-actions";
import type { IFunction } from "aws-cdk-lib/aws-lambda";
import { Topic } from "aws-cdk-lib/aws-sns";
import { EmailSubscription } from "aws-cdk-lib/aws-sns-subscriptions";
import type { IQueue } from "aws-cdk-lib/aws-sqs";
import { Construct } from "constructs";

/** A function whose errors raise an alarm. */
export interface AlarmedFunction {
  /**
   * A short name, part of the alarm's construct id and description (e.g. `Http`).
   *
   * Required.
   */
  readonly name: string;
  /**
   * The function whose Errors metric is watched.
   *
   * Required.
   */
  readonly function: IFunction;
}

/** The properties of {@link ServiceAlarms}. */
export interface ServiceAlarmsProps {
  /**
   * The queue whose visible messages (failed every attempt) raise an alarm.
   *
   * Required.
   */
  readonly deadLetterQueue: IQueue;
  /**
   * The functions whose errors (crashes, timeouts) raise an alarm, one alarm each.
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

/**
 * Alarms that need someone: a message in the dead-letter queue (an upload or job that failed every
 * attempt), and a function error (a crash or timeout; refused input is an answer, not an error).
 * They notify one topic, the stack's output names it; `alarmEmail` subscribes an address to it.
 */
export class ServiceAlarms extends Construct {
  /** The SNS topic every alarm notifies, on alarm and on OK (TLS-only). */
  readonly topic: Topic;
  /** The alarm on the dead-letter queue's depth. */
  readonly deadLetters: Alarm;
  /** One alarm per function of `functions`, in their order. */
  readonly functionErrors: Alarm[];

  constructor(scope: Construct, id: string, props: ServiceAlarmsProps) {
    super(scope, id);
    this.topic = new Topic(this, "Topic", { displayName: "report-render alarms", enforceSSL: true });
    if (props.alarmEmail) this.topic.addSubscription(new EmailSubscription(props.alarmEmail));
    const action = new SnsAction(this.topic);

    this.deadLetters = new Alarm(this, "DeadLetters", {
      alarmDescription: "Uploads or jobs failed every attempt and wait in the dead-letter queue",
      metric: props.deadLetterQueue.metricApproximateNumberOfMessagesVisible({
        period: Duration.minutes(5),
        statistic: "Maximum",
      }),
      threshold: 1,
      comparisonOperator: ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
      evaluationPeriods: 1,
      treatMissingData: TreatMissingData.NOT_BREACHING,
    });
    this.deadLetters.addAlarmAction(action);
    this.deadLetters.addOkAction(action);

    this.functionErrors = (props.functions ?? []).map(({ name, function: fn }) => {
      const alarm = new Alarm(this, `${name}Errors`, {
        alarmDescription: `The ${name} function failed (crash or timeout)`,
        metric: fn.metricErrors({ period: Duration.minutes(5), statistic: "Sum" }),
        threshold: 1,
        comparisonOperator: ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
        evaluationPeriods: 1,
        treatMissingData: TreatMissingData.NOT_BREACHING,
      });
      alarm.addAlarmAction(action);
      alarm.addOkAction(action);
      return alarm;
    });
  }
}

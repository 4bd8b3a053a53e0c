import { Duration } from "aws-cdk-lib";
import { Alarm, ComparisonOperator, TreatMissingData } from "aws-cdk-lib/aws-cloudwatch";
import { SnsAction } from "aws-cdk-lib/aws-cloudwatch-actions";
import type { IFunction } from "aws-cdk-lib/aws-lambda";
import { Topic } from "aws-cdk-lib/aws-sns";
import { EmailSubscription } from "aws-cdk-lib/aws-sns-subscriptions";
import type { IQueue } from "aws-cdk-lib/aws-sqs";
import { Construct } from "constructs";

export interface ServiceAlarmsProps {
  deadLetterQueue: IQueue;
  functions: { name: string; function: IFunction }[];
  alarmEmail?: string;
}

/**
 * Alarms that need someone: a message in the dead-letter queue (an upload or job that failed every
 * attempt), and a function error (a crash or timeout; refused input is an answer, not an error).
 * They notify one topic, the stack's output names it; `alarmEmail` subscribes an address to it.
 */
export class ServiceAlarms extends Construct {
  readonly topic: Topic;
  readonly deadLetters: Alarm;
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

    this.functionErrors = props.functions.map(({ name, function: fn }) => {
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

import { Duration, RemovalPolicy } from "aws-cdk-lib";
import {
  BlockPublicAccess,
  Bucket,
  BucketEncryption,
  HttpMethods,
  ObjectOwnership,
  type LifecycleRule,
} from "aws-cdk-lib/aws-s3";
import { Key } from "aws-cdk-lib/aws-kms";
import { Construct } from "constructs";
import { INCOMING_PREFIX, JOBS_PREFIX } from "../../functions/service/storage/keys.ts";

/** The properties of {@link ReportBuckets}. */
export interface ReportBucketsProps {
  /**
   * Encrypt the input and output buckets with a customer-managed KMS key made here (the
   * `bucketKmsKey` setting) instead of S3-managed keys.
   *
   * @default false
   */
  readonly kmsKey?: boolean;
  /**
   * Days after which an object of the output bucket, and a job request (`jobs/…`) of the input
   * bucket, expires; 0: they never expire. The stack passes the `outputExpirationDays` setting.
   *
   * Required.
   */
  readonly outputExpirationDays: number;
  /**
   * Days after which an upload's current version (`incoming/`) expires; 0: never. The stack passes
   * the `uploadExpirationDays` setting.
   *
   * @default 0
   */
  readonly uploadExpirationDays?: number;
  /**
   * Days an earlier (noncurrent) version of an input object is kept. The stack passes the
   * `inputVersionExpirationDays` setting.
   *
   * Required.
   */
  readonly inputVersionExpirationDays: number;
  /**
   * Days an S3 server access log is kept. The stack passes the `accessLogExpirationDays` setting.
   *
   * Required.
   */
  readonly accessLogExpirationDays: number;
  /**
   * Origins whose pages may download presigned PDFs from the output bucket (the API's CORS origins).
   *
   * @default [] - no CORS configuration on the output bucket
   */
  readonly corsAllowedOrigins?: string[];
}

/**
 * Two buckets, so that no output can ever trigger a render: only the input bucket notifies the
 * queue. Both are private (all public access blocked, ACLs disabled), encrypted with S3-managed
 * keys, refuse plain HTTP, and log every request to a third bucket. They are kept when the stack
 * is deleted: they hold the users' reports.
 */
export class ReportBuckets extends Construct {
  /** Uploads (`incoming/…`) and job requests (`jobs/…`): versioned; notifies the upload queue. */
  readonly input: Bucket;
  /** PDFs, result files and job state; expires after `outputExpirationDays`. */
  readonly output: Bucket;
  /** The server access logs of the other two. */
  readonly accessLogs: Bucket;
  /** With `kmsKey`: the key of the input and output buckets. */
  readonly key?: Key;

  constructor(scope: Construct, id: string, props: ReportBucketsProps) {
    super(scope, id);
    const corsAllowedOrigins = props.corsAllowedOrigins ?? [];
    const common = {
      blockPublicAccess: BlockPublicAccess.BLOCK_ALL,
      encryption: BucketEncryption.S3_MANAGED,
      enforceSSL: true,
      minimumTLSVersion: 1.2,
      objectOwnership: ObjectOwnership.BUCKET_OWNER_ENFORCED,
      removalPolicy: RemovalPolicy.RETAIN,
    };
    const abortUploads: LifecycleRule = {
      id: "abort-incomplete-uploads",
      abortIncompleteMultipartUploadAfter: Duration.days(7),
    };

    // With a key of the stack's: the input and output buckets only (S3 server access logs can be
    // written to a bucket with S3-managed keys alone). S3 Bucket Keys cut the KMS requests to a few.
    if (props.kmsKey) {
      this.key = new Key(this, "Key", {
        description: "report-render: encrypts the input and output buckets",
        enableKeyRotation: true,
        removalPolicy: RemovalPolicy.RETAIN,
      });
    }
    const encrypted = this.key
      ? { encryption: BucketEncryption.KMS, encryptionKey: this.key, bucketKeyEnabled: true }
      : {};

    // Server access logs are written by the S3 logging service, granted by bucket policy.
    this.accessLogs = new Bucket(this, "AccessLogs", {
      ...common,
      lifecycleRules: [{ id: "expire-logs", expiration: Duration.days(props.accessLogExpirationDays) }, abortUploads],
    });

    this.input = new Bucket(this, "Input", {
      ...common,
      ...encrypted,
      // An upload overwritten or deleted by mistake can be recovered for inputVersionExpirationDays.
      versioned: true,
      serverAccessLogsBucket: this.accessLogs,
      serverAccessLogsPrefix: "input/",
      lifecycleRules: [
        { id: "expire-old-versions", noncurrentVersionExpiration: Duration.days(props.inputVersionExpirationDays) },
        // A job request is worth nothing once its PDF and state have expired from the output bucket.
        ...(props.outputExpirationDays > 0
          ? [{ id: "expire-job-requests", prefix: JOBS_PREFIX, expiration: Duration.days(props.outputExpirationDays) }]
          : []),
        // An upload's JSON is worth keeping as long as its PDF, not for ever.
        ...((props.uploadExpirationDays ?? 0) > 0
          ? [
              {
                id: "expire-uploads",
                prefix: INCOMING_PREFIX,
                expiration: Duration.days(props.uploadExpirationDays ?? 0),
              },
            ]
          : []),
        { id: "remove-expired-delete-markers", expiredObjectDeleteMarker: true },
        abortUploads,
      ],
    });

    // Not versioned: every output can be rendered again from its input, and job state is rewritten
    // at each step (versions would only keep stale copies until they expired).
    this.output = new Bucket(this, "Output", {
      ...common,
      ...encrypted,
      serverAccessLogsBucket: this.accessLogs,
      serverAccessLogsPrefix: "output/",
      lifecycleRules: [
        ...(props.outputExpirationDays > 0
          ? [{ id: "expire-outputs", expiration: Duration.days(props.outputExpirationDays) }]
          : []),
        abortUploads,
      ],
      // A portal's page fetches a PDF too large to return inline from its presigned URL.
      cors:
        corsAllowedOrigins.length > 0
          ? [
              {
                allowedOrigins: corsAllowedOrigins,
                allowedMethods: [HttpMethods.GET, HttpMethods.HEAD],
                allowedHeaders: ["*"],
                exposedHeaders: ["content-disposition", "content-length", "etag"],
                maxAge: 3000,
              },
            ]
          : undefined,
    });
  }
}

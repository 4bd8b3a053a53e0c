import { Aws } from "aws-cdk-lib";
import { PolicyStatement, type IGrantable } from "aws-cdk-lib/aws-iam";
import type { IKey } from "aws-cdk-lib/aws-kms";
import type { IBucket } from "aws-cdk-lib/aws-s3";
import {
  INCOMING_PREFIX,
  JOBS_PREFIX,
  RENDERS_PREFIX,
  TEMPLATES_PREFIX,
} from "../../functions/service/storage/keys.ts";

/** The service's two buckets, as the grants below need them. */
export interface ServiceBuckets {
  /**
   * The input bucket (uploads and job requests).
   *
   * Required.
   */
  readonly input: IBucket;
  /**
   * The output bucket (PDFs, result files, job state).
   *
   * Required.
   */
  readonly output: IBucket;
  /**
   * The buckets' customer-managed key (the `bucketKmsKey` setting).
   *
   * @default - S3-managed keys: no KMS permission is needed
   */
  readonly key?: IKey;
}

/**
 * With a key of the stack's: what reading and writing those buckets takes of it (S3 asks KMS for a
 * data key on a put and to decrypt on a get, presigned GETs included), and only through S3.
 */
function grantKeyThroughS3(grantee: IGrantable, key: IKey | undefined): void {
  if (!key) return;
  grantee.grantPrincipal.addToPrincipalPolicy(
    new PolicyStatement({
      sid: "BucketKeyThroughS3",
      actions: ["kms:Decrypt", "kms:GenerateDataKey"],
      resources: [key.keyArn],
      conditions: { StringEquals: { "kms:ViaService": `s3.${Aws.REGION}.amazonaws.com` } },
    }),
  );
}

/**
 * Each function's bucket access: only the actions its code calls (functions/service/storage/s3.ts), on the
 * prefixes it reads and writes (functions/service/storage/keys.ts). No s3:* and no bucket-wide write for the
 * HTTP function; with S3-managed keys no KMS permission is needed (with the stack's own key, decrypt and data keys through S3 only).
 *
 * s3:ListBucket is granted where the code reads objects that may be absent (a job that does not
 * exist, an upload deleted before its event arrived, a result file not yet written): without it S3
 * answers 403 instead of 404 and the service would report an internal error instead of "not found".
 * The HTTP function's is narrowed to prefixes (s3:prefix): S3 answers its GET of a missing key 403,
 * and Storage.get lists that key to tell missing from refused. The upload function keeps a
 * ListBucket without conditions:
 * it reads absent keys all over both buckets (uploads deleted, batches' parts not yet written).
 */
export function grantHttpAccess(grantee: IGrantable, buckets: ServiceBuckets): void {
  const { input, output } = buckets;
  const add = (statement: PolicyStatement) => grantee.grantPrincipal.addToPrincipalPolicy(statement);
  // POST /v1/jobs: the request into the input bucket, where it starts the upload function.
  add(
    new PolicyStatement({
      sid: "PutJobRequests",
      actions: ["s3:PutObject"],
      resources: [input.arnForObjects(`${JOBS_PREFIX}*`)],
    }),
  );
  // Job state (queued), POST /v1/render's stored PDFs; GET /v1/jobs/{id} reads the state, and the
  // presigned download URLs it hands out are GETs signed with this role.
  add(
    new PolicyStatement({
      sid: "ReadWriteJobsAndRenders",
      actions: ["s3:GetObject", "s3:PutObject"],
      resources: [output.arnForObjects(`${JOBS_PREFIX}*`), output.arnForObjects(`${RENDERS_PREFIX}*`)],
    }),
  );
  // Listing jobs/ only (the PDFs under renders/ and every upload's output are none of its business):
  // a GET of a missing job state is answered 403, which Storage.get tells from refused by listing it.
  add(
    new PolicyStatement({
      sid: "ListJobStates",
      actions: ["s3:ListBucket"],
      resources: [output.bucketArn],
      conditions: { StringLike: { "s3:prefix": [`${JOBS_PREFIX}*`] } },
    }),
  );
  // Template packages: published and withdrawn (their index rewritten), listed, and read to render.
  add(
    new PolicyStatement({
      sid: "ReadWriteTemplatePackages",
      actions: ["s3:GetObject", "s3:PutObject"],
      resources: [input.arnForObjects(`${TEMPLATES_PREFIX}*`)],
    }),
  );
  // Listing templates/ only (uploads' keys are none of its business): a missing index is answered
  // 403, which Storage.get tells from refused by listing it.
  add(
    new PolicyStatement({
      sid: "ListTemplatePackages",
      actions: ["s3:ListBucket"],
      resources: [input.bucketArn],
      conditions: { StringLike: { "s3:prefix": [`${TEMPLATES_PREFIX}*`] } },
    }),
  );
  grantKeyThroughS3(grantee, buckets.key);
}

/** The upload function's bucket access (see above): read the work, write the outputs. */
export function grantUploadAccess(grantee: IGrantable, buckets: ServiceBuckets): void {
  const { input, output } = buckets;
  const add = (statement: PolicyStatement) => grantee.grantPrincipal.addToPrincipalPolicy(statement);
  // Uploads and job requests are read, never changed (an ended job's request is erased, below).
  add(
    new PolicyStatement({
      sid: "ReadUploadsJobRequestsAndTemplates",
      actions: ["s3:GetObject"],
      resources: [
        input.arnForObjects(`${INCOMING_PREFIX}*`),
        input.arnForObjects(`${JOBS_PREFIX}*`),
        input.arnForObjects(`${TEMPLATES_PREFIX}*`),
      ],
    }),
  );
  add(new PolicyStatement({ sid: "NotFoundForGoneUploads", actions: ["s3:ListBucket"], resources: [input.bucketArn] }));
  // A job's request (it may hold encryption passwords) is erased once the job has ended: each of its
  // versions deleted, found by listing the versions under its key.
  add(
    new PolicyStatement({
      sid: "EraseEndedJobRequests",
      actions: ["s3:DeleteObject", "s3:DeleteObjectVersion"],
      resources: [input.arnForObjects(`${JOBS_PREFIX}*`)],
    }),
  );
  add(
    new PolicyStatement({
      sid: "ListJobRequestVersions",
      actions: ["s3:ListBucketVersions"],
      resources: [input.bucketArn],
      conditions: { StringLike: { "s3:prefix": [`${JOBS_PREFIX}*`] } },
    }),
  );
  // Outputs land at keys named after the upload (<path>.pdf, batches/<batch>/<n>.pdf, jobs/<id>/…): the
  // whole output bucket is the function's to write; stale line PDFs and result files are deleted.
  add(
    new PolicyStatement({
      sid: "WriteOutputs",
      actions: ["s3:GetObject", "s3:PutObject", "s3:DeleteObject"],
      resources: [output.arnForObjects("*")],
    }),
  );
  add(new PolicyStatement({ sid: "ListOutputs", actions: ["s3:ListBucket"], resources: [output.bucketArn] }));
  grantKeyThroughS3(grantee, buckets.key);
}

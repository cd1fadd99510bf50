"""The bucket that receives S3 server access logs and CloudFront standard logs."""

from __future__ import annotations

from aws_cdk import Acknowledgment, Duration, RemovalPolicy, Validations
from aws_cdk import aws_s3 as s3
from constructs import Construct

from infra.components import checkov


class AccessLogs(Construct):
    def __init__(self, scope: Construct, construct_id: str, *, retain: bool, retention_days: int) -> None:
        super().__init__(scope, construct_id)
        self.bucket = s3.Bucket(
            self,
            "Bucket",
            encryption=s3.BucketEncryption.S3_MANAGED,
            enforce_ssl=True,
            block_public_access=s3.BlockPublicAccess.BLOCK_ALL,
            # CloudFront standard logging writes with ACLs, which need ownership controls that allow them.
            object_ownership=s3.ObjectOwnership.BUCKET_OWNER_PREFERRED,
            lifecycle_rules=[s3.LifecycleRule(expiration=Duration.days(retention_days))],
            removal_policy=RemovalPolicy.RETAIN if retain else RemovalPolicy.DESTROY,
            auto_delete_objects=not retain,
        )
        Validations.of(self.bucket).acknowledge(
            Acknowledgment(
                id="AwsSolutions-S1", reason="This is the access-log bucket; logging it to itself loops."
            ),
        )
        checkov.skip(self.bucket, "CKV_AWS_18", "This is the access-log bucket; logging it to itself loops.")
        checkov.skip(
            self.bucket,
            "CKV_AWS_21",
            "Log objects are written once and expire by lifecycle; versions would only keep deleted logs longer.",
        )

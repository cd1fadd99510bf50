"""With a custom domain the distribution serves it with the given ACM certificate and TLS 1.2 (2021)."""

from __future__ import annotations

from pathlib import Path

from aws_cdk.assertions import Match

CERTIFICATE = "arn:aws:acm:us-east-1:123456789012:certificate/00000000-0000-4000-8000-000000000000"


def test_custom_domain_uses_the_certificate_and_modern_tls(tmp_path: Path) -> None:
    from aws_cdk import App, Environment, Stack
    from aws_cdk import aws_lambda as lambda_
    from aws_cdk import aws_s3 as s3
    from aws_cdk.assertions import Template

    from infra.components.delivery import Delivery

    app = App(outdir=str(tmp_path))
    stack = Stack(app, "Probe", env=Environment(account="123456789012", region="us-east-1"))

    def function(name: str) -> lambda_.Function:
        return lambda_.Function(
            stack,
            name,
            code=lambda_.Code.from_inline("def handler(event, context):\n    return event\n"),
            handler="index.handler",
            runtime=lambda_.Runtime.PYTHON_3_13,
        )

    url = function("Origin").add_function_url(auth_type=lambda_.FunctionUrlAuthType.AWS_IAM)
    edge = function("Edge").current_version
    Delivery(
        stack,
        "Delivery",
        api_url=url,
        webhook_url=url,
        viewer_request=edge,
        origin_request=edge,
        viewer_response=edge,
        web_acl_arn="arn:aws:wafv2:us-east-1:123456789012:global/webacl/probe/0",
        access_logs=s3.Bucket(stack, "Logs", object_ownership=s3.ObjectOwnership.BUCKET_OWNER_PREFERRED),
        domain_names=["app.example.com"],
        certificate_arn=CERTIFICATE,
    )
    Template.from_stack(stack).has_resource_properties(
        "AWS::CloudFront::Distribution",
        {
            "DistributionConfig": Match.object_like(
                {
                    "Aliases": ["app.example.com"],
                    "ViewerCertificate": {
                        "AcmCertificateArn": CERTIFICATE,
                        "MinimumProtocolVersion": "TLSv1.2_2021",
                        "SslSupportMethod": "sni-only",
                    },
                }
            )
        },
    )

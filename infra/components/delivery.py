"""CloudFront in front of everything: HTTPS only, WAF (optional in dev), the edge functions on every
behavior, security headers from a response headers policy, the API and the Stripe receiver as Function URL
origins signed with OAC, and no caching of API responses."""

from __future__ import annotations

from collections.abc import Sequence

from aws_cdk import Acknowledgment, Duration, Validations
from aws_cdk import aws_certificatemanager as acm
from aws_cdk import aws_cloudfront as cloudfront
from aws_cdk import aws_cloudfront_origins as origins
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_s3 as s3
from constructs import Construct

from infra.components import checkov

API_PATHS = ("/api/*", "/.well-known/*", "/scim/v2/*")
WEBHOOK_PATH = "/webhooks/stripe"
HSTS_MAX_AGE_SECONDS = 63072000  # the values of the edge's DEFAULT_SECURITY_HEADERS (a test keeps them equal)
PERMISSIONS_POLICY = "camera=(), microphone=(), geolocation=()"


class Delivery(Construct):
    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        api_url: lambda_.IFunctionUrl,
        webhook_url: lambda_.IFunctionUrl,
        viewer_request: lambda_.IVersion,
        origin_request: lambda_.IVersion,
        viewer_response: lambda_.IVersion | None,
        web_acl_arn: str | None,
        access_logs: s3.IBucket,
        domain_names: Sequence[str],
        certificate_arn: str | None,
    ) -> None:
        super().__init__(scope, construct_id)
        edge_lambdas = [
            cloudfront.EdgeLambda(
                event_type=cloudfront.LambdaEdgeEventType.VIEWER_REQUEST, function_version=viewer_request
            ),
            # The body is needed for the SHA-256 that OAC requires on POST/PUT/PATCH to a Function URL.
            cloudfront.EdgeLambda(
                event_type=cloudfront.LambdaEdgeEventType.ORIGIN_REQUEST,
                function_version=origin_request,
                include_body=True,
            ),
        ]
        if viewer_response is not None:
            # Only for the anonymous-visitor cookie (a per-visitor random id, which no policy can set).
            edge_lambdas.append(
                cloudfront.EdgeLambda(
                    event_type=cloudfront.LambdaEdgeEventType.VIEWER_RESPONSE,
                    function_version=viewer_response,
                )
            )
        self.response_headers = self._security_headers()
        api_behavior = self._behavior(
            origins.FunctionUrlOrigin.with_origin_access_control(api_url), edge_lambdas, self.response_headers
        )
        certificate = (
            acm.Certificate.from_certificate_arn(self, "Certificate", certificate_arn)
            if certificate_arn
            else None
        )
        self.distribution = cloudfront.Distribution(
            self,
            "Distribution",
            comment="SaaS platform: edge auth + flags, API and Stripe webhooks",
            default_behavior=api_behavior,
            additional_behaviors={
                **dict.fromkeys(API_PATHS, api_behavior),
                WEBHOOK_PATH: self._behavior(
                    origins.FunctionUrlOrigin.with_origin_access_control(webhook_url),
                    edge_lambdas,
                    self.response_headers,
                ),
            },
            web_acl_id=web_acl_arn,
            domain_names=list(domain_names) or None,
            certificate=certificate,
            # Only meaningful with a custom certificate; the default one is fixed at TLSv1.
            minimum_protocol_version=cloudfront.SecurityPolicyProtocol.TLS_V1_2_2021 if certificate else None,
            http_version=cloudfront.HttpVersion.HTTP2_AND_3,
            price_class=cloudfront.PriceClass.PRICE_CLASS_100,
            enable_logging=True,
            log_bucket=access_logs,
            log_file_prefix="cloudfront/",
        )
        acknowledgments = [
            Acknowledgment(
                id="AwsSolutions-CFR1",
                reason="A B2B SaaS API serves customers worldwide; no geo restriction by design.",
            ),
        ]
        if certificate is None:
            acknowledgments.append(
                Acknowledgment(
                    id="AwsSolutions-CFR4",
                    reason="Dev only: CloudFront's default certificate allows TLSv1, and prod refuses to "
                    "synthesize without domain_names + certificate_arn (TLSv1.2_2021 minimum, infra/config.py).",
                )
            )
            checkov.skip(
                self.distribution,
                "CKV_AWS_174",
                "Dev only: the default *.cloudfront.net certificate fixes TLSv1; prod refuses to synthesize "
                "without a custom domain and certificate (TLSv1.2_2021).",
            )
        if web_acl_arn is None:
            acknowledgments.append(
                Acknowledgment(
                    id="AwsSolutions-CFR2",
                    reason="WAF is off in this (dev) environment to save $9/month plus $0.60 per million "
                    "requests; prod requires it (config validation).",
                )
            )
            checkov.skip(
                self.distribution,
                "CKV_AWS_68",
                "Dev only: WAF is off to save $9/month plus $0.60 per million requests (docs/cost.md); prod "
                "refuses to synthesize without it.",
            )
        Validations.of(self.distribution).acknowledge(*acknowledgments)

    def _security_headers(self) -> cloudfront.ResponseHeadersPolicy:
        """The security headers the viewer-response function used to add, now added by CloudFront itself
        (no invocation, and on error responses too, where viewer-response functions never run)."""
        return cloudfront.ResponseHeadersPolicy(
            self,
            "SecurityHeaders",
            comment="Security headers for every response (docs/cost.md)",
            security_headers_behavior=cloudfront.ResponseSecurityHeadersBehavior(
                strict_transport_security=cloudfront.ResponseHeadersStrictTransportSecurity(
                    access_control_max_age=Duration.seconds(HSTS_MAX_AGE_SECONDS),
                    include_subdomains=True,
                    preload=True,
                    override=True,
                ),
                content_type_options=cloudfront.ResponseHeadersContentTypeOptions(override=True),
                frame_options=cloudfront.ResponseHeadersFrameOptions(
                    frame_option=cloudfront.HeadersFrameOption.DENY, override=True
                ),
                referrer_policy=cloudfront.ResponseHeadersReferrerPolicy(
                    referrer_policy=cloudfront.HeadersReferrerPolicy.STRICT_ORIGIN_WHEN_CROSS_ORIGIN,
                    override=True,
                ),
            ),
            custom_headers_behavior=cloudfront.ResponseCustomHeadersBehavior(
                custom_headers=[
                    cloudfront.ResponseCustomHeader(
                        header="Permissions-Policy", value=PERMISSIONS_POLICY, override=True
                    ),
                    cloudfront.ResponseCustomHeader(
                        header="Cross-Origin-Opener-Policy", value="same-origin", override=True
                    ),
                ]
            ),
        )

    @staticmethod
    def _behavior(
        origin: cloudfront.IOrigin,
        edge_lambdas: list[cloudfront.EdgeLambda],
        response_headers: cloudfront.IResponseHeadersPolicy,
    ) -> cloudfront.BehaviorOptions:
        return cloudfront.BehaviorOptions(
            origin=origin,
            viewer_protocol_policy=cloudfront.ViewerProtocolPolicy.HTTPS_ONLY,
            allowed_methods=cloudfront.AllowedMethods.ALLOW_ALL,
            cache_policy=cloudfront.CachePolicy.CACHING_DISABLED,
            # All viewer headers but Host (a Function URL needs its own) plus CloudFront-Viewer-Country.
            origin_request_policy=cloudfront.OriginRequestPolicy.ALL_VIEWER_EXCEPT_HOST_HEADER,
            edge_lambdas=edge_lambdas,
            response_headers_policy=response_headers,
            compress=True,
        )

"""VPC: isolated subnets for the database, private subnets for functions, one way out to the internet (NAT
gateways, or a small NAT instance where an hourly gateway costs more than the traffic it carries), interface
endpoints only for AWS APIs the functions call, flow logs, and the security groups that say who may reach
the database."""

from __future__ import annotations

from collections.abc import Sequence

from aws_cdk import Acknowledgment, Validations
from aws_cdk import aws_ec2 as ec2
from constructs import Construct

DATA_SUBNETS = "data"
FUNCTION_SUBNETS = "functions"
POSTGRES_PORT = 5432
# Every AWS API a function calls that has an interface endpoint. SSM is absent on purpose: no deployed
# function reads a parameter (secrets are `secretsmanager:` references), so its endpoint served nothing.
# Values: (construct id as first deployed, so existing endpoints stay in place; service).
INTERFACE_ENDPOINTS: dict[str, tuple[str, ec2.InterfaceVpcEndpointAwsService]] = {
    "sqs": ("Sqs", ec2.InterfaceVpcEndpointAwsService.SQS),
    "secretsmanager": ("SecretsManager", ec2.InterfaceVpcEndpointAwsService.SECRETS_MANAGER),
    "kms": ("Kms", ec2.InterfaceVpcEndpointAwsService.KMS),
    "xray": ("XRay", ec2.InterfaceVpcEndpointAwsService.XRAY),
}


class Network(Construct):
    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        availability_zones: tuple[str, ...],
        nat_gateways: int,
        nat: str = "gateway",
        nat_instance_type: str = "t4g.nano",
        interface_endpoints: Sequence[str] = tuple(INTERFACE_ENDPOINTS),
    ) -> None:
        super().__init__(scope, construct_id)
        # Without NAT the functions' subnets are isolated: only the endpoints below are reachable.
        function_subnet_type = (
            ec2.SubnetType.PRIVATE_WITH_EGRESS if nat_gateways else ec2.SubnetType.PRIVATE_ISOLATED
        )
        subnets = [
            ec2.SubnetConfiguration(name=FUNCTION_SUBNETS, subnet_type=function_subnet_type, cidr_mask=20),
            ec2.SubnetConfiguration(
                name=DATA_SUBNETS, subnet_type=ec2.SubnetType.PRIVATE_ISOLATED, cidr_mask=24
            ),
        ]
        if nat_gateways:
            subnets.insert(
                0, ec2.SubnetConfiguration(name="public", subnet_type=ec2.SubnetType.PUBLIC, cidr_mask=24)
            )
        nat_instances = (
            ec2.NatProvider.instance_v2(
                instance_type=ec2.InstanceType(nat_instance_type),
                default_allowed_traffic=ec2.NatTrafficDirection.OUTBOUND_ONLY,
            )
            if nat == "instance" and nat_gateways
            else None
        )
        self.vpc = ec2.Vpc(
            self,
            "Vpc",
            ip_addresses=ec2.IpAddresses.cidr("10.40.0.0/16"),
            availability_zones=list(availability_zones),
            nat_gateways=nat_gateways,
            nat_gateway_provider=nat_instances,
            subnet_configuration=subnets,
            restrict_default_security_group=True,
            flow_logs={"All": ec2.FlowLogOptions(traffic_type=ec2.FlowLogTrafficType.ALL)},
        )
        self.function_subnets = ec2.SubnetSelection(subnet_group_name=FUNCTION_SUBNETS)
        self.data_subnets = ec2.SubnetSelection(subnet_group_name=DATA_SUBNETS)

        self.vpc.add_gateway_endpoint("S3", service=ec2.GatewayVpcEndpointAwsService.S3)
        self.vpc.add_gateway_endpoint("DynamoDb", service=ec2.GatewayVpcEndpointAwsService.DYNAMODB)
        for name in interface_endpoints:
            endpoint_id, service = INTERFACE_ENDPOINTS[name]
            self.vpc.add_interface_endpoint(endpoint_id, service=service, subnets=self.function_subnets)
        acknowledgments = [
            Acknowledgment(
                id="AwsSolutions-EC23",
                reason="Interface endpoints and the NAT instance accept traffic from the VPC CIDR only (a token "
                "nag cannot evaluate).",
            )
        ]
        if nat_instances is not None:
            # The NAT instance forwards whatever the functions send out; only the VPC may send to it.
            nat_instances.connections.allow_from(
                ec2.Peer.ipv4(self.vpc.vpc_cidr_block), ec2.Port.all_traffic()
            )
            acknowledgments += [
                Acknowledgment(
                    id="AwsSolutions-EC28",
                    reason="A dev NAT instance: basic monitoring is enough; detailed monitoring costs more than it.",
                ),
                Acknowledgment(
                    id="AwsSolutions-EC26",
                    reason="The NAT instance's root volume holds the stock Amazon Linux image and iptables rules, "
                    "no data.",
                ),
                Acknowledgment(
                    id="AwsSolutions-EC29",
                    reason="A stateless NAT instance: replacing it loses nothing, so no termination protection.",
                ),
            ]
        Validations.of(self.vpc).acknowledge(*acknowledgments)
        # App functions reach only RDS Proxy; the migrate function alone reaches the instance.
        self.app_functions_sg = self._egress_only_group(
            "AppFunctions", "Origin functions (app role via RDS Proxy)"
        )
        self.migrate_sg = self._egress_only_group("Migrate", "Deploy-time migrate function (owner role)")

    def _egress_only_group(self, construct_id: str, description: str) -> ec2.SecurityGroup:
        group = ec2.SecurityGroup(
            self, construct_id, vpc=self.vpc, description=description, allow_all_outbound=False
        )
        group.add_egress_rule(ec2.Peer.any_ipv4(), ec2.Port.tcp(443), "HTTPS to AWS endpoints and Stripe")
        group.add_egress_rule(
            ec2.Peer.ipv4(self.vpc.vpc_cidr_block), ec2.Port.tcp(POSTGRES_PORT), "PostgreSQL inside the VPC"
        )
        return group

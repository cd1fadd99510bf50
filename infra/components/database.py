"""PostgreSQL on RDS (encrypted, backed up, TLS forced) behind RDS Proxy with end-to-end IAM auth.

The owner credentials are an RDS-generated JSON secret used only by the deploy-time migrate function,
which connects to the instance directly; the application role `saas_app` logs in through the proxy with
IAM tokens (the first migration grants it `rds_iam`), so no app password exists anywhere.
"""

from __future__ import annotations

from aws_cdk import Acknowledgment, ArnFormat, Duration, RemovalPolicy, Stack, Validations
from aws_cdk import aws_ec2 as ec2
from aws_cdk import aws_iam as iam
from aws_cdk import aws_rds as rds
from constructs import Construct

from infra.components import checkov
from infra.components.network import POSTGRES_PORT
from infra.config import DatabaseConfig

ENGINE_VERSION = rds.PostgresEngineVersion.VER_17_9
OWNER_ROTATION_DAYS = 30


class Database(Construct):
    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        config: DatabaseConfig,
        name_prefix: str,
        retain: bool,
        vpc: ec2.IVpc,
        data_subnets: ec2.SubnetSelection,
        app_clients: ec2.ISecurityGroup,
        owner_clients: ec2.ISecurityGroup,
        owner_client_subnets: ec2.SubnetSelection,
    ) -> None:
        super().__init__(scope, construct_id)
        self.config = config
        engine = rds.DatabaseInstanceEngine.postgres(version=ENGINE_VERSION)
        parameters = rds.ParameterGroup(
            self,
            "Parameters",
            engine=engine,
            parameters={"rds.force_ssl": "1", "log_min_duration_statement": "1000"},
        )
        instance_sg = ec2.SecurityGroup(
            self, "InstanceSg", vpc=vpc, description="PostgreSQL instance", allow_all_outbound=False
        )
        proxy_sg = ec2.SecurityGroup(
            self, "ProxySg", vpc=vpc, description="RDS Proxy", allow_all_outbound=False
        )
        # The instance's own ingress comes from the bindings below (proxy target, owner rotation), which
        # open its port to the proxy and to the migrate group; a literal rule beside them would duplicate.
        proxy_sg.add_ingress_rule(app_clients, ec2.Port.tcp(POSTGRES_PORT), "Origin functions")
        proxy_sg.add_egress_rule(instance_sg, ec2.Port.tcp(POSTGRES_PORT), "Proxy to instance")

        self.instance = rds.DatabaseInstance(
            self,
            "Instance",
            engine=engine,
            instance_type=ec2.InstanceType(config.instance_type),
            vpc=vpc,
            vpc_subnets=data_subnets,
            security_groups=[instance_sg],
            credentials=rds.Credentials.from_generated_secret(config.owner_user),
            database_name=config.name,
            parameter_group=parameters,
            allocated_storage=config.allocated_storage_gib,
            max_allocated_storage=config.max_allocated_storage_gib,
            storage_encrypted=True,
            storage_type=rds.StorageType.GP3,
            multi_az=config.multi_az,
            backup_retention=Duration.days(config.backup_retention_days),
            deletion_protection=config.deletion_protection,
            removal_policy=RemovalPolicy.SNAPSHOT if retain else RemovalPolicy.DESTROY,
            iam_authentication=True,
            enable_performance_insights=True,
            monitoring_interval=Duration.seconds(60),  # enhanced monitoring: OS metrics per minute
            cloudwatch_logs_exports=["postgresql", "upgrade"],
            auto_minor_version_upgrade=True,
            copy_tags_to_snapshot=True,
        )
        if self.instance.secret is None:
            raise ValueError("a generated-secret instance always has a secret")
        self.owner_secret = self.instance.secret
        checkov.skip(
            self.instance.node.find_child(
                "Secret"
            ),  # the secret itself (`instance.secret` is its attachment)
            "CKV_AWS_149",
            "Encrypted with the account's aws/secretsmanager key; only the migrate function and the rotation "
            "read it, which a customer key would not narrow further.",
        )
        # Single-user rotation from where the migrate function runs: its security group already reaches the
        # instance and its subnets reach Secrets Manager (VPC endpoint), so no new network path opens.
        self.owner_rotation = self.instance.add_rotation_single_user(
            automatically_after=Duration.days(OWNER_ROTATION_DAYS),
            vpc_subnets=owner_client_subnets,
            security_group=owner_clients,
        )
        # End-to-end IAM auth: the proxy itself logs in to PostgreSQL as the app role with an IAM token.
        proxy_role = iam.Role(self, "ProxyRole", assumed_by=iam.ServicePrincipal("rds.amazonaws.com"))
        proxy_role.add_to_policy(
            iam.PolicyStatement(
                actions=["rds-db:connect"],
                resources=[
                    Stack.of(self).format_arn(
                        service="rds-db",
                        resource="dbuser",
                        resource_name=f"{self.instance.instance_resource_id}/{config.app_user}",
                        arn_format=ArnFormat.COLON_RESOURCE_NAME,
                    )
                ],
            )
        )
        self.proxy = rds.DatabaseProxy(
            self,
            "Proxy",
            db_proxy_name=f"{name_prefix}-proxy",
            role=proxy_role,
            proxy_target=rds.ProxyTarget.from_instance(self.instance),
            vpc=vpc,
            vpc_subnets=data_subnets,
            security_groups=[proxy_sg],
            secrets=[],
            iam_auth=True,
            require_tls=True,
            default_auth_scheme=rds.DefaultAuthScheme.IAM_AUTH,
            max_connections_percent=config.proxy_max_connections_percent,
            idle_client_timeout=Duration.minutes(30),
            borrow_timeout=Duration.seconds(30),
        )
        # End-to-end IAM auth needs no proxy secrets; CDK still renders an empty `Auth` list.
        cfn_proxy = self.proxy.node.default_child
        if isinstance(cfn_proxy, rds.CfnDBProxy):
            cfn_proxy.add_property_deletion_override("Auth")
        Validations.of(self).acknowledge(
            Acknowledgment(
                id="AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/AmazonRDSEnhancedMonitoringRole]",
                reason="Enhanced monitoring's role needs exactly the AWS managed policy RDS documents for it.",
            ),
            Acknowledgment(
                id="AwsSolutions-RDS11",
                reason="The default port is reachable only from the proxy and migrate security groups.",
            ),
        )
        self.replica = (
            self._add_replica(
                config=config,
                parameters=parameters,
                vpc=vpc,
                data_subnets=data_subnets,
                app_clients=app_clients,
            )
            if config.read_replica
            else None
        )
        if not config.multi_az:
            Validations.of(self.instance).acknowledge(
                Acknowledgment(
                    id="AwsSolutions-RDS3", reason="Single-AZ only in dev to save cost; prod is Multi-AZ."
                )
            )
            checkov.skip(
                self.instance, "CKV_AWS_157", "Single-AZ only in dev to save cost; prod is Multi-AZ."
            )
        if not config.deletion_protection:
            Validations.of(self.instance).acknowledge(
                Acknowledgment(
                    id="AwsSolutions-RDS10", reason="Deletion protection is on in prod; dev is disposable."
                )
            )

    def _add_replica(
        self,
        *,
        config: DatabaseConfig,
        parameters: rds.IParameterGroup,
        vpc: ec2.IVpc,
        data_subnets: ec2.SubnetSelection,
        app_clients: ec2.ISecurityGroup,
    ) -> rds.DatabaseInstanceReadReplica:
        """The read replica: same encryption, TLS and IAM auth as the primary, reachable from the origin
        functions only. It holds nothing the primary does not, so it is never snapshotted or retained."""
        replica_sg = ec2.SecurityGroup(
            self, "ReplicaSg", vpc=vpc, description="PostgreSQL read replica", allow_all_outbound=False
        )
        replica_sg.add_ingress_rule(app_clients, ec2.Port.tcp(POSTGRES_PORT), "Origin functions (reads)")
        replica = rds.DatabaseInstanceReadReplica(
            self,
            "Replica",
            source_database_instance=self.instance,
            instance_type=ec2.InstanceType(config.replica_instance_type or config.instance_type),
            vpc=vpc,
            vpc_subnets=data_subnets,
            security_groups=[replica_sg],
            parameter_group=parameters,
            # encrypted because its source is (CloudFormation refuses StorageEncrypted on a replica)
            storage_type=rds.StorageType.GP3,
            max_allocated_storage=config.max_allocated_storage_gib,
            multi_az=False,
            deletion_protection=config.deletion_protection,
            removal_policy=RemovalPolicy.DESTROY,
            iam_authentication=True,
            enable_performance_insights=True,
            monitoring_interval=Duration.seconds(60),
            cloudwatch_logs_exports=["postgresql", "upgrade"],
            auto_minor_version_upgrade=True,
        )
        Validations.of(replica).acknowledge(
            Acknowledgment(
                id="AwsSolutions-RDS2",
                reason="Encrypted with its source's key: CloudFormation refuses StorageEncrypted on a replica.",
            ),
            Acknowledgment(
                id="AwsSolutions-RDS3", reason="A replica is one AZ; the primary carries Multi-AZ."
            ),
            Acknowledgment(
                id="AwsSolutions-RDS11",
                reason="The default port is reachable only from the origin functions.",
            ),
            Acknowledgment(
                id="AwsSolutions-RDS13",
                reason="Replicas take no backups; the primary's backups cover the data.",
            ),
        )
        if not config.deletion_protection:
            Validations.of(replica).acknowledge(
                Acknowledgment(id="AwsSolutions-RDS10", reason="A replica holds no data the primary lacks.")
            )
        checkov.skip(replica, "CKV_AWS_157", "A replica is one AZ; the primary carries Multi-AZ.")
        checkov.skip(
            replica,
            "CKV_AWS_16",
            "Encrypted with its source's key: CloudFormation refuses StorageEncrypted on a replica.",
        )
        return replica

    def grant_app_connect(self, grantee: iam.IGrantable) -> iam.Grant:
        """`rds-db:connect` as the application role through the proxy, nothing else."""
        return self.proxy.grant_connect(grantee, self.config.app_user)

    def grant_replica_connect(self, grantee: iam.IGrantable) -> iam.Grant:
        """`rds-db:connect` as the application role on the read replica (none without one)."""
        if self.replica is None:
            raise ValueError("this cell has no read replica")
        return iam.Grant.add_to_principal(
            grantee=grantee,
            actions=["rds-db:connect"],
            resource_arns=[
                Stack.of(self).format_arn(
                    service="rds-db",
                    resource="dbuser",
                    resource_name=f"{self.replica.instance_resource_id}/{self.config.app_user}",
                    arn_format=ArnFormat.COLON_RESOURCE_NAME,
                )
            ],
        )

    @property
    def proxy_endpoint(self) -> str:
        return self.proxy.endpoint

    @property
    def read_endpoint(self) -> str | None:
        """The replica's address for `DB_READ_HOST` / a cell's `read_host`, None without a replica."""
        return None if self.replica is None else self.replica.db_instance_endpoint_address

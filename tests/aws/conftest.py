"""AWS test fixtures: moto in-process, credentials from a profile file, a small RDS estate, a local HTTP server.

The credentials live only in a temporary shared-credentials file (never in the
environment), so a test that finds them masked proves the client factory
registered what botocore resolved, not what the environment happened to hold.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import pytest
from botocore.stub import Stubber
from moto import mock_aws

from runner.aws.clients import AwsSettings, BotoClients
from runner.aws.specs import SnapshotSpec
from tests.aws.local_http import LocalHttp

REGION = "us-east-1"
PROFILE = "runner-test"
ACCESS_KEY = "ASIAQRUNNERTEST00001"
SECRET_KEY = "wJalrXUtnFEMI/K7MDENG/runnerTESTsecretKEY0001"
SESSION_TOKEN = "IQoJb3JpZ2luX2VjRUNNER//////////wEaCXVzLWVhc3QtMSJHTESTsessionTOKEN0001"
MOTO_CONFIG = {"core": {"mock_credentials": False}}  # keep the profile's credentials, not moto's FOOBARKEY


@pytest.fixture
def aws_profile(tmp_path, monkeypatch: pytest.MonkeyPatch) -> str:
    """A profile whose credentials (with a session token) exist only in a file."""
    credentials = tmp_path / "aws-credentials"
    credentials.write_text(
        f"[{PROFILE}]\naws_access_key_id = {ACCESS_KEY}\naws_secret_access_key = {SECRET_KEY}\n"
        f"aws_session_token = {SESSION_TOKEN}\n"
    )
    config = tmp_path / "aws-config"
    config.write_text("")
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(credentials))
    monkeypatch.setenv("AWS_CONFIG_FILE", str(config))
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")
    for name in (
        "AWS_ACCESS_KEY_ID",
        "AWS_SECRET_ACCESS_KEY",
        "AWS_SESSION_TOKEN",
        "AWS_PROFILE",
        "AWS_DEFAULT_PROFILE",
        "AWS_ENDPOINT_URL",
        "AWS_REGION",
        "AWS_DEFAULT_REGION",
    ):
        monkeypatch.delenv(name, raising=False)
    return PROFILE


@pytest.fixture
def aws(aws_profile: str) -> Iterator[BotoClients]:
    """A client factory for moto's in-process AWS, with the profile's credentials."""
    with mock_aws(config=MOTO_CONFIG):
        yield BotoClients(AwsSettings(region=REGION, profile=aws_profile))


@pytest.fixture
def rds(aws: BotoClients) -> Any:
    return aws("rds")


@dataclass(frozen=True)
class Network:
    subnet_group: str
    security_group: str
    parameter_group: str
    cluster_parameter_group: str
    option_group: str


@pytest.fixture
def network(aws: BotoClients, rds: Any) -> Network:
    """A VPC with two subnets, a subnet group, a security group, and custom parameter and option groups."""
    ec2 = aws("ec2")
    vpc = ec2.create_vpc(CidrBlock="10.0.0.0/16")["Vpc"]["VpcId"]
    subnets = [
        ec2.create_subnet(VpcId=vpc, CidrBlock=f"10.0.{i}.0/24", AvailabilityZone=f"{REGION}{zone}")[
            "Subnet"
        ]["SubnetId"]
        for i, zone in ((1, "a"), (2, "b"))
    ]
    group = ec2.create_security_group(GroupName="credmate-db", Description="db", VpcId=vpc)["GroupId"]
    rds.create_db_subnet_group(
        DBSubnetGroupName="credmate-private", DBSubnetGroupDescription="private", SubnetIds=subnets
    )
    rds.create_db_parameter_group(
        DBParameterGroupName="credmate-pg15", DBParameterGroupFamily="postgres15", Description="credmate"
    )
    rds.create_db_cluster_parameter_group(
        DBClusterParameterGroupName="credmate-aurora15",
        DBParameterGroupFamily="aurora-postgresql15",
        Description="credmate",
    )
    rds.create_option_group(
        OptionGroupName="credmate-options",
        EngineName="postgres",
        MajorEngineVersion="13",  # moto knows postgres option groups up to 13
        OptionGroupDescription="credmate",
    )
    return Network("credmate-private", group, "credmate-pg15", "credmate-aurora15", "credmate-options")


def make_instance(
    rds: Any, network: Network, name: str = "credmate-prod", **overrides: Any
) -> dict[str, Any]:
    """A PostgreSQL instance with settings a restore must copy."""
    settings: dict[str, Any] = {
        "DBInstanceIdentifier": name,
        "Engine": "postgres",
        "EngineVersion": "15.5",
        "DBInstanceClass": "db.r6g.large",
        "MasterUsername": "credmate",
        "MasterUserPassword": "not-a-real-password-1",
        "AllocatedStorage": 200,
        "StorageType": "gp3",
        "Iops": 12000,
        "StorageThroughput": 500,
        "DBSubnetGroupName": network.subnet_group,
        "VpcSecurityGroupIds": [network.security_group],
        "DBParameterGroupName": network.parameter_group,
        "OptionGroupName": network.option_group,
        "MultiAZ": True,
        "Port": 5432,
        "PubliclyAccessible": False,
        "EnableIAMDatabaseAuthentication": True,
        "DeletionProtection": True,
        "Tags": [{"Key": "team", "Value": "credentialing"}],
        **overrides,
    }
    return dict(rds.create_db_instance(**settings)["DBInstance"])


def make_cluster(rds: Any, network: Network, name: str = "credmate-aurora") -> dict[str, Any]:
    """An Aurora PostgreSQL cluster with a writer and a reader."""
    rds.create_db_cluster(
        DBClusterIdentifier=name,
        Engine="aurora-postgresql",
        EngineVersion="15.4",
        MasterUsername="credmate",
        MasterUserPassword="not-a-real-password-1",
        DBSubnetGroupName=network.subnet_group,
        VpcSecurityGroupIds=[network.security_group],
        DBClusterParameterGroupName=network.cluster_parameter_group,
        Port=5432,
        DeletionProtection=True,
        EnableIAMDatabaseAuthentication=True,
    )
    for member in ("1", "2"):
        rds.create_db_instance(
            DBInstanceIdentifier=f"{name}-{member}",
            DBClusterIdentifier=name,
            Engine="aurora-postgresql",
            DBInstanceClass="db.r6g.xlarge",
            DBParameterGroupName=network.parameter_group,
        )
    return dict(rds.describe_db_clusters(DBClusterIdentifier=name)["DBClusters"][0])


def instance_spec(name: str = "credmate-prod", **overrides: Any) -> SnapshotSpec:
    values: dict[str, Any] = {
        "required": True,
        "rds_instance": name,
        "aurora_cluster": None,
        "region": REGION,
        "wait_ceiling_ms": 60_000,
        "tags": (("change", "blueshift-schema-sync"), ("ticket", "OPS-2026-0210")),
        **overrides,
    }
    return SnapshotSpec(**values)


def cluster_spec(name: str = "credmate-aurora", **overrides: Any) -> SnapshotSpec:
    return instance_spec(**{"rds_instance": None, "aurora_cluster": name, **overrides})


@pytest.fixture
def local_http() -> Iterator[Callable[..., LocalHttp]]:
    """Start local HTTP servers on 127.0.0.1; stopped after the test."""
    started: list[LocalHttp] = []

    def start(**kwargs: Any) -> LocalHttp:
        server = LocalHttp(**kwargs)
        server.start()
        started.append(server)
        return server

    yield start
    for server in started:
        server.stop()


@pytest.fixture
def stub_rds(aws_profile: str) -> Iterator[tuple[Any, Stubber]]:
    """An RDS client whose answers are queued by the test (botocore's Stubber); nothing is sent anywhere."""
    client = BotoClients(AwsSettings(region=REGION, profile=aws_profile))("rds")
    with Stubber(client) as stubber:
        yield client, stubber

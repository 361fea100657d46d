"""Safety and exposure of the ACK cluster (resource policies: they judge the cluster's inputs)."""

from __future__ import annotations

from pulumi_policy import PolicyConfigSchema

from ._policy import ADVISORY, MANDATORY, resource_policy
from .cloud import prop
from .model.deployment import CLUSTER_TYPES
from .model.values import UnknownValueError, truthy

MANAGED_KUBERNETES = "alicloud:cs/managedKubernetes:ManagedKubernetes"


@resource_policy(
    name="ack-deletion-protection",
    description="The ACK cluster has deletion protection, so neither the console nor the API deletes it "
                "by mistake.",
    level=MANDATORY,
    remediation="Set deletionProtection true on the cluster.",
    tags=["data-safety", "kubernetes"],
)
def ack_deletion_protection(args, report):
    if args.resource_type in CLUSTER_TYPES and not truthy(args.props.get("deletionProtection")):
        report(f"cluster {args.name} has no deletion protection; set deletionProtection true.")


@resource_policy(
    name="ack-rrsa-enabled",
    description="The ACK cluster has RRSA on, so pods get RAM roles through OIDC instead of access keys.",
    level=MANDATORY,
    remediation="Set enableRrsa true on the cluster and grant Milvus its OSS access through a RAM role "
                "trusted by the cluster's OIDC provider.",
    tags=["security", "kubernetes"],
    peers={"ack-cluster-rrsa-enabled": ""},
)
def ack_rrsa_enabled(args, report):
    if args.resource_type in CLUSTER_TYPES and not truthy(args.props.get("enableRrsa")):
        report(f"cluster {args.name} has RRSA off; set enableRrsa true.")


@resource_policy(
    name="ack-api-server-private",
    description="The Kubernetes API server is not exposed on an internet-facing load balancer, unless the "
                "pack config allows it.",
    level=MANDATORY,
    remediation="Set slbInternetEnabled false (reach the API server from the VPC), or set this policy's "
                "allowPublicApiServer in the policy pack config.",
    tags=["security", "kubernetes"],
    peers={"ack-cluster-public-endpoint-check": ""},
    config_schema=PolicyConfigSchema(
        properties={
            "allowPublicApiServer": {
                "type": "boolean",
                "default": False,
                "description": "Accept an internet-facing API server load balancer.",
            },
        },
    ),
)
def ack_api_server_private(args, report):
    if args.resource_type not in CLUSTER_TYPES:
        return
    # The provider's default for slbInternetEnabled is true: unset means public.
    public = truthy(args.props.get("slbInternetEnabled"), default=True)
    if public and not truthy(args.get_config().get("allowPublicApiServer")):
        report(f"cluster {args.name} exposes its API server to the internet (slbInternetEnabled is true or "
               "unset); set slbInternetEnabled false.")


def _given(props, key: str) -> bool:
    """The input is set to something non-empty, or unknown until apply (an Output of another resource)."""
    try:
        value = props.get(key)
    except UnknownValueError:
        return True
    return value not in (None, "", [], {})


@resource_policy(
    name="ack-secrets-encrypted",
    description="The ACK cluster encrypts Kubernetes Secrets at rest with a KMS key (encryptionProviderKey), "
                "so etcd snapshots and disks do not hold Milvus' passwords in the clear.",
    level=MANDATORY,
    remediation="Create a kms.Key (rotation on, deletion protection on) and set encryptionProviderKey to its id "
                "with disableEncryption false (an ACK Pro cluster); milvus-zones does this unless "
                "security.secretsEncryption is false.",
    tags=["security", "encryption", "kubernetes"],
    peers={"ack-cluster-encryption-enabled": ""},
)
def ack_secrets_encrypted(args, report):
    if args.resource_type not in CLUSTER_TYPES:
        return
    if truthy(prop(args.props, "disableEncryption")):
        report(f"cluster {args.name} sets disableEncryption true; Secrets are stored unencrypted.")
    elif not _given(args.props, "encryptionProviderKey"):
        report(f"cluster {args.name} has no encryptionProviderKey; Secrets are stored unencrypted in etcd.")


CONTROL_PLANE_COMPONENTS = ("apiserver", "kcm", "scheduler", "ccm", "controlplane-events")


@resource_policy(
    name="ack-control-plane-logs",
    description="The ACK cluster ships its control-plane logs (at least the API server's) to Log Service, so "
                "who changed what in the cluster can be traced.",
    level=MANDATORY,
    remediation="Set controlPlaneLogComponents (apiserver, kcm, scheduler, ccm, controlplane-events), "
                "controlPlaneLogTtl and optionally controlPlaneLogProject; milvus-zones does this unless "
                "security.controlPlaneLogs is false.",
    tags=["security", "audit", "kubernetes"],
    peers={"ack-cluster-log-plugin-installed": "partial: this policy requires the control-plane logs; the "
                                               "peer asks for the logtail-ds add-on (container logs), which is "
                                               "the operator's choice of log pipeline"},
)
def ack_control_plane_logs(args, report):
    if args.resource_type not in CLUSTER_TYPES:
        return
    try:
        components = args.props.get("controlPlaneLogComponents")
    except UnknownValueError:
        return
    if "apiserver" not in [str(c) for c in (components or [])]:
        report(f"cluster {args.name} does not ship the API server's logs; set controlPlaneLogComponents to "
               f"include apiserver (all of: {', '.join(CONTROL_PLANE_COMPONENTS)}).")


@resource_policy(
    name="ack-pro-cluster",
    description="The managed cluster is ACK Pro (clusterSpec ack.pro.*): the edition with an SLA for the "
                "control plane and the one that encrypts Secrets with KMS.",
    level=ADVISORY,
    remediation="Set clusterSpec ack.pro.small.",
    tags=["reliability", "kubernetes"],
    peers={"ack-cluster-spec-check": ""},
)
def ack_pro_cluster(args, report):
    if args.resource_type != MANAGED_KUBERNETES:
        return
    spec = prop(args.props, "clusterSpec")
    if spec is not None and not str(spec).startswith("ack.pro."):
        report(f"cluster {args.name} is {spec}; use ack.pro.small.")
    elif spec is None and not _given(args.props, "clusterSpec"):
        report(f"cluster {args.name} sets no clusterSpec; set ack.pro.small explicitly.")


def _version(text: str) -> tuple[int, ...] | None:
    parts = text.split("-", 1)[0].split(".")
    try:
        return tuple(int(p) for p in parts[:2])
    except ValueError:
        return None


@resource_policy(
    name="ack-version-current",
    description="A pinned ACK Kubernetes version is at least the pack's minimum (default 1.35, the newest line "
                "InfraGuard accepts); an unpinned version is ACK's current default.",
    level=ADVISORY,
    remediation="Raise version to a supported ACK release (or leave it unset for ACK's default) and upgrade "
                "the node pools with it.",
    tags=["maintenance", "kubernetes"],
    config_schema=PolicyConfigSchema(properties={
        "minimumVersion": {"type": "string", "default": "1.35",
                           "description": "Oldest Kubernetes minor version accepted, e.g. 1.34."},
    }),
    peers={"ack-cluster-supported-version": "", "ack-cluster-upgrade-latest-version": "",
           "ack-cluster-inspect-kubelet-version-outdate-check": ""},
)
def ack_version_current(args, report):
    if args.resource_type not in CLUSTER_TYPES:
        return
    pinned = prop(args.props, "version")
    minimum = str(args.get_config().get("minimumVersion") or "1.35")
    have, want = _version(str(pinned or "")), _version(minimum)
    if pinned and have is not None and want is not None and have < want:
        report(f"cluster {args.name} pins Kubernetes {pinned}, older than {minimum}; upgrade it.")


TERWAY = frozenset({"terway-eniip", "terway-eni", "terway-controlplane"})


@resource_policy(
    name="ack-network-policy-capable",
    description="The cluster's pod network enforces Kubernetes NetworkPolicies: Terway with pod vSwitches of "
                "their own (or Flannel with a pod CIDR), so Milvus' and etcd's network policies take effect.",
    level=MANDATORY,
    remediation="Install the terway-eniip add-on and give the cluster podVswitchIds distinct from its node "
                "vswitchIds (or flannel with podCidr).",
    tags=["security", "network", "kubernetes"],
    peers={"CKV_ALI_26": ""},
)
def ack_network_policy_capable(args, report):
    if args.resource_type not in CLUSTER_TYPES:
        return
    try:
        addons = args.props.get("addons") or []
        names = {str(a.get("name")) for a in addons}
    except UnknownValueError:
        return
    if names & TERWAY:
        pods = prop(args.props, "podVswitchIds") or []
        nodes = [*(prop(args.props, "vswitchIds") or []), *(prop(args.props, "workerVswitchIds") or []),
                 *(prop(args.props, "masterVswitchIds") or [])]
        if not _given(args.props, "podVswitchIds"):
            report(f"cluster {args.name} runs Terway without podVswitchIds; give pods vSwitches of their own.")
        elif set(map(str, pods)) & set(map(str, nodes)):
            report(f"cluster {args.name} puts pods on its node vSwitches; use separate pod vSwitches.")
    elif "flannel" in names:
        if not _given(args.props, "podCidr"):
            report(f"cluster {args.name} runs Flannel without podCidr.")
    else:
        report(f"cluster {args.name} has no Terway or Flannel add-on, so NetworkPolicies are not enforced; add "
               "terway-eniip.")

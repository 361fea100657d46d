"""Milvus on ACK across zones, written by hand with pulumi_alicloud and pulumi_kubernetes.

Every knob is a stack config key so that each stack file in this directory differs from the
compliant one in the single way its name says.
"""

import json
from pathlib import Path

import pulumi
import pulumi_alicloud as alicloud
import pulumi_kubernetes as k8s

cfg = pulumi.Config()
mode = cfg.get("mode")  # written as the milvus-zones/mode tag; unset means "declares no mode"
zones = cfg.require_object("zones")
region = cfg.get("region") or "cn-hangzhou"
# computePools: [{name, zones: [...], size, instanceType, multiAzPolicy?}]
compute_pools = cfg.require_object("computePools")
quorum_zones = cfg.get_object("quorumZones") or zones
chart_version = cfg.get("chartVersion") or "5.0.19"
image_tag = cfg.get("imageTag")
message_queue = cfg.get("messageQueue") or ("woodpecker" if chart_version.startswith("5.") else "pulsar")
redundancy = cfg.get("bucketRedundancy") or "ZRS"
bucket_acl = cfg.get("bucketAcl") or "private"
block_public = cfg.get_bool("blockPublicAccess")
block_public = True if block_public is None else block_public
encrypted = cfg.get_bool("encrypted") is not False
versioned = cfg.get_bool("versioned") is not False
deletion_protection = cfg.get_bool("deletionProtection") is not False
rrsa = cfg.get_bool("rrsa") is not False
api_public = cfg.get_bool("apiServerPublic") is True
authorization = cfg.get_bool("authorization") is not False
plaintext_password = cfg.get("plaintextPassword")  # a literal put in the Helm values
etcd_zone_spread = cfg.get_bool("etcdZoneSpread") is not False
etcd_replicas = cfg.get_int("etcdReplicas") or 3
etcd_pdb = cfg.get_bool("etcdPdb") is not False
etcd_persistence = cfg.get_bool("etcdPersistence") is not False
protect = cfg.get_bool("protect") is not False
component_spread = cfg.get_bool("componentSpread") is not False
sized = cfg.get_bool("sized") is not False  # requests = limits on every Milvus component and etcd
hardened = cfg.get_bool("hardened") is not False  # non-root, no escalation, no capabilities, seccomp
isolated = cfg.get_bool("isolated") is not False  # default-deny and etcd NetworkPolicies
cdc = cfg.get_bool("cdc") is not False  # cross-region-ha: replication between the regions  # proxies and mixCoord one per compute zone
secrets_encryption = cfg.get_bool("secretsEncryption") is not False  # ACK Secrets with a KMS key
control_plane_logs = cfg.get_bool("controlPlaneLogs") is not False
disk_encryption = cfg.get_bool("diskEncryption") is not False  # node pool system disks
bucket_logging = cfg.get_bool("bucketLogging") is not False  # access logs to a log bucket
bucket_mode = cfg.get("bucketModeTag") or mode
# etcd run on its own beside Milvus (values etcd.enabled false, externalEtcd.endpoints naming it): "release"
# (the bitnami etcd chart as its own Helm release) or "statefulset" (a plain StatefulSet with its Services).
etcd_as = cfg.get("etcdAs")
# deployWith: "release" (helm.v3.Release, the default), "chart-v3" (helm.v3.Chart of the real archive, which the
# offline engine renders as `helm template` would) or "chart-v4" (helm.v4.Chart, whose rendered objects the
# provider registers as its children: the program registers them itself, rendered from the same archive).
deploy_with = cfg.get("deployWith") or "release"
CHARTS = Path(__file__).resolve().parents[4] / "shared" / "reference" / "milvus-helm" / "charts"
# messageQueue "kafka-statefulset": Kafka as a plain StatefulSet of the stack, Milvus through externalKafka.
# The cluster's vSwitches through the deprecated but accepted `worker_vswitch_ids` (pulumi-alicloud 4), in
# `controlPlaneZones` (the deployment's zones when unset).
# messageQueue "pulsar-release" (the apache Pulsar chart as its own helm.v3.Release) or "pulsar-statefulset" (its
# StatefulSets written out by hand, labelled as the chart labels them): Milvus through externalPulsar.host.
# pulsarSpreadKey: the anti-affinity topology key of every Pulsar part (in the chart or on its own);
# pulsarBookies: bookkeeper replicas.
pulsar_spread_key = cfg.get("pulsarSpreadKey") or "topology.kubernetes.io/zone"
pulsar_bookies = cfg.get_int("pulsarBookies") or 3
cluster_vswitch_arg = cfg.get("clusterVswitchArg") or "vswitch_ids"
control_plane_zones = cfg.get_object("controlPlaneZones")  # a different value here is a conflicting declaration



def deploy(prefix, zones, quorum_zones, compute_pools, bucket_name, region, dep_mode=mode, dep_bucket_mode=bucket_mode):
    """One region's deployment: VPC, bucket, ACK cluster, node pools, Milvus. Names carry `prefix`."""
    tags = {"milvus-zones/mode": dep_mode} if dep_mode else {}
    bucket_tags = {"milvus-zones/mode": dep_bucket_mode} if dep_bucket_mode else {}

    def n(name):
        return f"{prefix}{name}"

    vpc = alicloud.vpc.Network(n("vpc"), vpc_name="milvus", cidr_block="10.0.0.0/16")
    switches = {
        z: alicloud.vpc.Switch(
            n(f"node-{z[-1]}"), vpc_id=vpc.id, zone_id=z, cidr_block=f"10.0.{i * 16}.0/20", vswitch_name=f"node-{z[-1]}"
        )
        for i, z in enumerate(sorted(set(zones) | set(quorum_zones) | {z for p in compute_pools for z in p["zones"]}))
    }
    # Terway gives pods addresses from vSwitches of their own (NetworkPolicies need it).
    pod_switches = {
        z: alicloud.vpc.Switch(
            n(f"pod-{z[-1]}"), vpc_id=vpc.id, zone_id=z, cidr_block=f"10.0.{128 + i * 16}.0/20",
            vswitch_name=f"pod-{z[-1]}",
        )
        for i, z in enumerate(zones)
    }

    bucket = alicloud.oss.Bucket(
        n("data"),
        bucket=bucket_name,
        redundancy_type=redundancy,
        versioning={"status": "Enabled"} if versioned else None,
        server_side_encryption_rule={"sse_algorithm": "AES256"} if encrypted else None,
        tags=bucket_tags,
        opts=pulumi.ResourceOptions(protect=protect),
    )
    alicloud.oss.BucketAcl(n("data-acl"), bucket=bucket.bucket, acl=bucket_acl)
    if block_public:
        alicloud.oss.BucketPublicAccessBlock(n("data-pab"), bucket=bucket.bucket, block_public_access=True)
    https_only = {"Version": "1", "Statement": [{
        "Effect": "Deny", "Principal": ["*"], "Action": ["oss:*"],
        "Resource": [f"acs:oss:*:*:{bucket_name}", f"acs:oss:*:*:{bucket_name}/*"],
        "Condition": {"Bool": {"acs:SecureTransport": "false"}}}]}
    alicloud.oss.BucketPolicy(n("data-https-only"), bucket=bucket.bucket, policy=json.dumps(https_only))
    if bucket_logging:
        logs = alicloud.oss.Bucket(
            n("logs"), bucket=f"{bucket_name}-logs", redundancy_type="ZRS", versioning={"status": "Enabled"},
            server_side_encryption_rule={"sse_algorithm": "AES256"}, opts=pulumi.ResourceOptions(protect=protect),
        )
        alicloud.oss.BucketAcl(n("logs-acl"), bucket=logs.bucket, acl="private")
        alicloud.oss.BucketPublicAccessBlock(n("logs-pab"), bucket=logs.bucket, block_public_access=True)
        alicloud.oss.BucketLogging(n("data-logging"), bucket=bucket.bucket, target_bucket=logs.bucket,
                                   target_prefix="access/")
    secrets_key = alicloud.kms.Key(
        n("secrets-key"), description="ACK Secrets", automatic_rotation="Enabled", rotation_interval="31536000s",
        deletion_protection="Enabled", pending_window_in_days=30, opts=pulumi.ResourceOptions(protect=protect),
    )

    cluster = alicloud.cs.ManagedKubernetes(
        n("ack"),
        name=n("milvus"),
        cluster_spec="ack.pro.small",
        **{cluster_vswitch_arg: [switches[z].id for z in (control_plane_zones if not prefix and control_plane_zones
                                                            else zones)]},
        pod_vswitch_ids=[pod_switches[z].id for z in zones],
        service_cidr="172.16.0.0/20",
        addons=[{"name": "terway-eniip"}, {"name": "csi-plugin"}, {"name": "csi-provisioner"}],
        encryption_provider_key=secrets_key.id if secrets_encryption else None,
        control_plane_log_components=["apiserver", "kcm", "scheduler", "ccm"] if control_plane_logs else None,
        control_plane_log_ttl="30" if control_plane_logs else None,
        enable_rrsa=rrsa,
        deletion_protection=deletion_protection,
        slb_internet_enabled=api_public,
        tags=tags,
        opts=pulumi.ResourceOptions(protect=protect),
    )


    def pool(name, pool_zones, size, instance_type, role, multi_az_policy=None, taints=None, max_size=None):
        return alicloud.cs.NodePool(
            n(name),
            cluster_id=cluster.id,
            node_pool_name=name,
            vswitch_ids=[switches[z].id for z in pool_zones],
            instance_types=[instance_type],
            desired_size=str(size),
            labels=[{"key": "workload", "value": role}, {"key": "pool", "value": name}],
            taints=taints,
            multi_az_policy=multi_az_policy,
            # A pool that may grow relaunches compute in its other zone (basic mode's recovery).
            scaling_config={"enable": True, "min_size": size, "max_size": max_size} if max_size else None,
            system_disk_encrypted=disk_encryption,
            management={"enable": True, "auto_repair": True, "auto_upgrade": False, "max_unavailable": 1, "surge": 1},
            tags=tags,
        )


    for p in compute_pools:
        pool(p["name"], p["zones"], p["size"], p.get("instanceType", "ecs.g7.2xlarge"), "milvus",
             p.get("multiAzPolicy"), max_size=p.get("maxSize"))
    for z in quorum_zones:
        pool(f"quorum-{z[-1]}", [z], 1, "ecs.g7.large", "quorum",
             taints=[{"key": "dedicated", "value": "quorum", "effect": "NoSchedule"}])

    credentials = alicloud.cs.get_cluster_credential_output(cluster_id=cluster.id)
    provider = k8s.Provider(n("k8s"), kubeconfig=credentials.kube_config)
    k8s_opts = pulumi.ResourceOptions(provider=provider)
    ns = k8s.core.v1.Namespace(n("milvus"), metadata={"name": "milvus"}, opts=k8s_opts)
    root = k8s.core.v1.Secret(
        n("milvus-root"),
        metadata={"name": "milvus-root", "namespace": "milvus"},
        string_data={"password": cfg.require_secret("rootPassword")},
        opts=pulumi.ResourceOptions(provider=provider, depends_on=[ns]),
    )

    quorum_selector = {"workload": "quorum"}
    quorum_tolerations = [{"key": "dedicated", "operator": "Equal", "value": "quorum", "effect": "NoSchedule"}]


    def zone_spread(name):
        return [{
            "maxSkew": 1,
            "topologyKey": "topology.kubernetes.io/zone",
            "whenUnsatisfiable": "DoNotSchedule" if etcd_zone_spread else "ScheduleAnyway",
            "labelSelector": {"matchLabels": {"app.kubernetes.io/name": name}},
        }]


    def component_zone_spread(component):
        return [{
            "maxSkew": 1,
            "topologyKey": "topology.kubernetes.io/zone",
            "whenUnsatisfiable": "DoNotSchedule",
            "labelSelector": {"matchLabels": {"app.kubernetes.io/name": "milvus", "component": component}},
        }]


    def pulsar_members(replicas):
        """zookeeper, bookkeeper and broker values of the apache Pulsar chart (3.3.0), one per zone when
        pulsarSpreadKey is the zone key."""
        spread = {"anti_affinity": True, "anti_affinity_topology_key": pulsar_spread_key,
                  "type": "requiredDuringSchedulingIgnoredDuringExecution"}
        member = {"replicaCount": replicas, "nodeSelector": quorum_selector, "tolerations": quorum_tolerations,
                  "affinity": spread}
        return {"zookeeper": member, "bookkeeper": {**member, "replicaCount": pulsar_bookies}, "broker": member}


    user_yaml = {"common": {"security": {"authorizationEnabled": authorization}}}
    if plaintext_password:
        user_yaml["common"]["security"]["defaultRootPassword"] = plaintext_password
    values = {
        "labels": tags,
        "nodeSelector": {"workload": "milvus"},
        "extraConfigFiles": {"user.yaml": json.dumps(user_yaml)},
        "minio": {"enabled": False},
        "externalS3": {
            "enabled": True, "host": f"oss-{region}-internal.aliyuncs.com", "port": 443, "useSSL": True,
            "bucketName": bucket.bucket, "rootPath": "milvus", "useIAM": True, "cloudProvider": "aliyun",
            "region": region, "useVirtualHost": True,
        },
        "etcd": {
            "replicaCount": etcd_replicas,
            "nodeSelector": quorum_selector,
            "tolerations": quorum_tolerations,
            "topologySpreadConstraints": zone_spread("etcd"),
            "persistence": {"enabled": etcd_persistence, "size": "20Gi"},
            "pdb": {"create": etcd_pdb, "minAvailable": 2},
        },
        "proxy": {"replicas": 2},
    }
    if component_spread:
        # One replica of each per compute zone: a zone loss leaves a proxy and the standby coordinator.
        values["proxy"]["topologySpreadConstraints"] = component_zone_spread("proxy")
        values["mixCoordinator"] = {"replicas": 2, "activeStandby": {"enabled": True},
                                    "topologySpreadConstraints": component_zone_spread("mixcoord")}
        # One query node per compute zone, each a whole replica (cluster-level replica number = nodes), and a
        # streaming node per zone: a zone loss leaves a complete replica and a streaming node.
        values["queryNode"] = {"replicas": 2, "topologySpreadConstraints": component_zone_spread("querynode")}
        values["streamingNode"] = {"replicas": 2, "topologySpreadConstraints": component_zone_spread("streamingnode")}
        user_yaml["queryCoord"] = {"clusterLevelLoadReplicaNumber": 2}
        values["extraConfigFiles"] = {"user.yaml": json.dumps(user_yaml)}
    if image_tag:
        values["image"] = {"all": {"tag": image_tag}}
    if dep_mode == "cross-region-ha" and cdc:
        # Milvus CDC (2.6.16 or later) replicates each region's WAL to the other.
        values["cdc"] = {"enabled": True}
        values.setdefault("image", {"all": {"tag": "v2.6.16"}})
    if message_queue == "woodpecker":
        values["streaming"] = {"enabled": True, "woodpecker": {"embedded": True, "storage": {"type": "minio"}}}
        values["pulsarv3"] = {"enabled": False}
    elif message_queue == "pulsar":
        values["pulsarv3"] = {"enabled": True, **pulsar_members(3)}
        values["pulsar"] = {"enabled": False}
    elif message_queue == "kafka":
        values["pulsarv3"] = {"enabled": False}
        values["pulsar"] = {"enabled": False}
        values["kafka"] = {"enabled": True, "replicaCount": 3, "nodeSelector": quorum_selector,
                           "tolerations": quorum_tolerations, "topologySpreadConstraints": zone_spread("kafka")}
    if plaintext_password:
        values["extraEnv"] = [{"name": "MILVUS_ROOT_PASSWORD", "value": plaintext_password}]
    if sized:
        def size(cpu, memory):
            return {"requests": {"cpu": cpu, "memory": memory}, "limits": {"cpu": cpu, "memory": memory}}

        for component, (cpu, memory) in {"proxy": ("500m", "1Gi"), "mixCoordinator": ("500m", "1Gi"),
                                         "queryNode": ("4", "16Gi"), "dataNode": ("1", "2Gi"),
                                         "streamingNode": ("1", "2Gi"), "indexNode": ("1", "2Gi"),
                                         "cdc": ("500m", "1Gi")}.items():
            values.setdefault(component, {})["resources"] = size(cpu, memory)
        values["etcd"]["resources"] = size("1", "2Gi")
    no_escalation = {"allowPrivilegeEscalation": False, "capabilities": {"drop": ["ALL"]},
                     "seccompProfile": {"type": "RuntimeDefault"}}
    if hardened and chart_version.startswith("4.2.") and int(chart_version.split(".")[2]) <= 25:
        # Chart 4.2.25 has no securityContext keys: the milvus-zones post-renderer applies them.
        values["annotations"] = {"milvus-zones/hardening": json.dumps(
            {"pod": {"seccompProfile": {"type": "RuntimeDefault"}}, "container": no_escalation,
             "automountServiceAccountToken": False, "images": []})}
    elif hardened:
        values["securityContext"] = {"runAsNonRoot": True, "runAsUser": 10001, "runAsGroup": 0,
                                     "seccompProfile": {"type": "RuntimeDefault"}}
        values["containerSecurityContext"] = {**no_escalation, "readOnlyRootFilesystem": True}
        values["volumes"] = [{"name": "data", "emptyDir": {}}, {"name": "tmp", "emptyDir": {}}]
        values["volumeMounts"] = [{"name": "data", "mountPath": "/var/lib/milvus"},
                                  {"name": "tmp", "mountPath": "/tmp"}]
    if hardened:
        values["etcd"]["podSecurityContext"] = {"enabled": True, "fsGroup": 1001,
                                                "seccompProfile": {"type": "RuntimeDefault"}}
        values["etcd"]["containerSecurityContext"] = {"enabled": True, "runAsUser": 1001, "runAsNonRoot": True,
                                                      **no_escalation}
    policies = []
    if isolated:
        etcd_pods = {"app.kubernetes.io/name": "etcd", "app.kubernetes.io/instance": "milvus"}
        for np_name, selector, ingress in (
            ("default-deny", {}, []),
            ("etcd", {"matchLabels": etcd_pods},
             [{"from": [{"podSelector": {"matchLabels": {"app.kubernetes.io/name": "milvus"}}},
                        {"podSelector": {"matchLabels": etcd_pods}}]}]),
        ):
            policies.append(k8s.networking.v1.NetworkPolicy(
                n(f"np-{np_name}"), metadata={"name": np_name, "namespace": "milvus"},
                spec={"podSelector": selector, "policyTypes": ["Ingress"], "ingress": ingress},
                opts=pulumi.ResourceOptions(provider=provider, depends_on=[ns])))

    own = []  # etcd and Kafka run on their own, which Milvus waits for
    if etcd_as == "release":
        etcd_values = {key: values["etcd"][key] for key in ("replicaCount", "nodeSelector", "tolerations",
                                                             "topologySpreadConstraints", "persistence", "pdb")}
        etcd_values["resources"] = values["etcd"].get("resources")
        own.append(k8s.helm.v3.Release(
            n("etcd"), name="milvus-etcd", chart="etcd", version="8.12.0", namespace="milvus",
            repository_opts={"repo": "https://charts.bitnami.com/bitnami"}, values=etcd_values,
            opts=pulumi.ResourceOptions(provider=provider, depends_on=[ns], protect=protect)))
        # bitnami's fullname is the release name when it contains "etcd": Service milvus-etcd.
        values["etcd"] = {"enabled": False}
        values["externalEtcd"] = {"enabled": True, "endpoints": ["milvus-etcd.milvus.svc.cluster.local:2379"]}
    elif etcd_as == "statefulset":
        own += _statefulset("etcd", etcd_replicas, "quay.io/coreos/etcd:v3.5.25", 2379, etcd_persistence, etcd_pdb,
                            quorum_selector, quorum_tolerations, zone_spread("etcd"), provider, ns, n)
        values["etcd"] = {"enabled": False}
        # Each member by its pod name under the headless Service, as the chart's own config lists them.
        values["externalEtcd"] = {"enabled": True, "endpoints": [
            f"etcd-{i}.etcd-headless.milvus.svc.cluster.local:2379" for i in range(etcd_replicas)]}
    if message_queue == "kafka-statefulset":
        own += _statefulset("kafka", 3, "apache/kafka:3.9.1", 9092, True, True, quorum_selector,
                            quorum_tolerations, zone_spread("kafka"), provider, ns, n)
        values["pulsarv3"] = {"enabled": False}
        values["pulsar"] = {"enabled": False}
        values["streaming"] = {"enabled": True}
        values["externalKafka"] = {"enabled": True, "brokerList": "kafka.milvus.svc:9092"}
    if message_queue == "pulsar-release":
        # apache/pulsar-helm-chart 3.3.0 (the chart milvus 5.0.19 bundles as pulsarv3); its fullname is the release
        # name when that contains "pulsar": the broker Service is pulsar-broker.
        pulsar_values = {"affinity": {"anti_affinity": True}, **pulsar_members(3),
                         "components": {"functions": False, "toolset": False, "pulsar_manager": False}}
        pulsar_values["broker"] = {**pulsar_values["broker"], "configData": {
            "managedLedgerDefaultEnsembleSize": "2", "managedLedgerDefaultWriteQuorum": "2",
            "managedLedgerDefaultAckQuorum": "2"}}
        own.append(k8s.helm.v3.Release(
            n("pulsar"), name="pulsar", chart="pulsar", version="3.3.0", namespace="milvus",
            repository_opts={"repo": "https://pulsar.apache.org/charts"}, values=pulsar_values,
            opts=pulumi.ResourceOptions(provider=provider, depends_on=[ns], protect=protect)))
        values["externalPulsar"] = {"enabled": True, "host": "pulsar-broker.milvus.svc.cluster.local", "port": 6650}
    elif message_queue == "pulsar-statefulset":
        own += _pulsar_statefulsets(pulsar_spread_key, pulsar_bookies, quorum_selector, quorum_tolerations,
                                    provider, ns, n)
        values["externalPulsar"] = {"enabled": True, "host": "pulsar-broker", "port": 6650}
    if message_queue.startswith("pulsar-"):
        values["pulsarv3"] = {"enabled": False}
        values["pulsar"] = {"enabled": False}
        values["streaming"] = {"enabled": True}

    if deploy_with != "release":
        archive = str(CHARTS / f"milvus-{chart_version}.tgz")
        chart_opts = pulumi.ResourceOptions(provider=provider, depends_on=[ns, root, *policies, *own], protect=protect)
        if deploy_with == "chart-v3":
            k8s.helm.v3.Chart("milvus", k8s.helm.v3.LocalChartOpts(path=archive, values=values, namespace="milvus"),
                              opts=chart_opts)
        else:
            chart = k8s.helm.v4.Chart(n("milvus"), chart=archive, values=values, namespace="milvus", opts=chart_opts)
            if Path(archive).exists():
                import yaml
                from helm_python import Chart
                plain_values = {**values, "externalS3": {**values["externalS3"], "bucketName": bucket_name}}
                files = Chart.load(archive).render(plain_values, name="milvus", namespace="milvus", is_install=True,
                                                   revision=1)
                docs = [d for f, t in sorted(files.items()) if f.endswith(".yaml") for d in yaml.safe_load_all(t) if d]
                k8s.yaml.ConfigGroup(n("milvus-objects"), yaml=[yaml.safe_dump_all(docs)],
                                     opts=pulumi.ResourceOptions(parent=chart, provider=provider))
        return bucket

    k8s.helm.v3.Release(
        n("milvus"),
        name="milvus",
        chart="milvus",
        version=chart_version,
        namespace="milvus",
        repository_opts={"repo": "https://zilliztech.github.io/milvus-helm/"},
        values=values,
        postrender="milvus-zones-postrender" if "annotations" in values else None,
        opts=pulumi.ResourceOptions(provider=provider, depends_on=[ns, root, *policies, *own], protect=protect),
    )
    return bucket


def _statefulset(app, replicas, image, port, persistent, pdb, selector, tolerations, spread, provider, ns, n):
    """A quorum service as a plain StatefulSet, its headless and client Services and (optionally) a PDB."""
    opts = pulumi.ResourceOptions(provider=provider, depends_on=[ns])
    labels = {"app.kubernetes.io/name": app, "app.kubernetes.io/instance": app}
    meta = {"namespace": "milvus", "labels": labels}
    out = [
        k8s.core.v1.Service(n(f"{app}-headless"), metadata={**meta, "name": f"{app}-headless"},
                            spec={"clusterIP": "None", "selector": labels, "ports": [{"name": "client", "port": port}],
                                  "publishNotReadyAddresses": True}, opts=opts),
        k8s.core.v1.Service(n(f"{app}-client"), metadata={**meta, "name": app},
                            spec={"selector": labels, "ports": [{"name": "client", "port": port}]}, opts=opts),
        k8s.apps.v1.StatefulSet(n(app), metadata={**meta, "name": app}, spec={
            "serviceName": f"{app}-headless", "replicas": replicas, "podManagementPolicy": "Parallel",
            "selector": {"matchLabels": labels},
            "template": {"metadata": {"labels": labels}, "spec": {
                "nodeSelector": selector, "tolerations": tolerations, "topologySpreadConstraints": spread,
                "containers": [{"name": app, "image": image, "ports": [{"containerPort": port}],
                                "resources": {"requests": {"cpu": "1", "memory": "2Gi"},
                                              "limits": {"cpu": "1", "memory": "2Gi"}},
                                "volumeMounts": [{"name": "data", "mountPath": "/data"}] if persistent else []}]}},
            "volumeClaimTemplates": [{"metadata": {"name": "data"}, "spec": {
                "accessModes": ["ReadWriteOnce"], "resources": {"requests": {"storage": "20Gi"}}}}]
            if persistent else [],
        }, opts=pulumi.ResourceOptions(provider=provider, depends_on=[ns], protect=True)),
    ]
    if pdb:
        out.append(k8s.policy.v1.PodDisruptionBudget(n(f"{app}-pdb"), metadata={**meta, "name": app},
                                                     spec={"minAvailable": replicas // 2 + 1,
                                                           "selector": {"matchLabels": labels}}, opts=opts))
    return out


def _pulsar_statefulsets(spread_key, bookies, selector, tolerations, provider, ns, n):
    """Pulsar's zookeeper, bookies and brokers as plain StatefulSets labelled as the apache chart labels its
    own (app, release, cluster, component), each held one per zone (when spread_key is the zone key), with
    the brokers' Service and ConfigMap (managedLedgerDefault quorums 2)."""
    opts = pulumi.ResourceOptions(provider=provider, depends_on=[ns])
    out = [k8s.core.v1.ConfigMap(n("pulsar-broker-config"), metadata={"name": "pulsar-broker", "namespace": "milvus"},
                                 data={"managedLedgerDefaultEnsembleSize": "2", "managedLedgerDefaultWriteQuorum": "2",
                                       "managedLedgerDefaultAckQuorum": "2"}, opts=opts)]
    for component, replicas, port in (("zookeeper", 3, 2181), ("bookie", bookies, 3181), ("broker", 3, 6650)):
        selector_labels = {"app": "pulsar", "release": "pulsar", "component": component}
        labels = {**selector_labels, "cluster": "pulsar"}
        meta = {"name": f"pulsar-{component}", "namespace": "milvus", "labels": labels}
        out.append(k8s.core.v1.Service(n(f"pulsar-{component}"), metadata=meta, spec={
            "clusterIP": "None", "selector": selector_labels, "ports": [{"name": "client", "port": port}]}, opts=opts))
        container = {"name": component, "image": "apachepulsar/pulsar:3.0.7", "ports": [{"containerPort": port}],
                     "resources": {"requests": {"cpu": "1", "memory": "2Gi"}, "limits": {"cpu": "1", "memory": "2Gi"}},
                     "volumeMounts": [{"name": "data", "mountPath": "/pulsar/data"}]}
        if component == "broker":
            container["envFrom"] = [{"configMapRef": {"name": "pulsar-broker"}}]
        out.append(k8s.apps.v1.StatefulSet(n(f"pulsar-{component}"), metadata=meta, spec={
            "serviceName": f"pulsar-{component}", "replicas": replicas, "podManagementPolicy": "Parallel",
            "selector": {"matchLabels": selector_labels},
            "template": {"metadata": {"labels": labels}, "spec": {
                "nodeSelector": selector, "tolerations": tolerations,
                "affinity": {"podAntiAffinity": {"requiredDuringSchedulingIgnoredDuringExecution": [{
                    "labelSelector": {"matchLabels": selector_labels}, "topologyKey": spread_key}]}},
                "containers": [container]}},
            "volumeClaimTemplates": [{"metadata": {"name": "data"}, "spec": {
                "accessModes": ["ReadWriteOnce"], "resources": {"requests": {"storage": "20Gi"}}}}],
        }, opts=pulumi.ResourceOptions(provider=provider, depends_on=[ns], protect=True)))
    return out


bucket = deploy("", zones, quorum_zones, compute_pools, "milvus-on-ack-data", region)
# cross-region-ha: a second, independent deployment in another region (peer: {region, zones, computePools});
# with peer.mode, a second Milvus of its own mode in the same program (peer.bucketModeTag: its bucket's tag).
peer = cfg.get_object("peer")
if peer:
    peer_mode = peer.get("mode", mode)
    deploy("peer-", peer["zones"], peer["zones"], peer["computePools"], "milvus-on-ack-peer-data", peer["region"],
           peer_mode, peer.get("bucketModeTag", peer_mode))

pulumi.export("bucket", bucket.bucket)

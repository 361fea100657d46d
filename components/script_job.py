"""A Kubernetes Job that runs one of milvus_zones/jobs/*.py in the cluster, after what it needs."""

import hashlib
from collections.abc import Mapping, Sequence
from importlib import resources
from typing import TypedDict

import pulumi
import pulumi_kubernetes as k8s

from milvus_zones.rendering.isolation import JOB_SELECTOR

HELPER = "retry.py"  # shared by the scripts, mounted beside each
PYMILVUS = "pymilvus==2.6.17"  # update_replicate_configuration with force_promote
BACKOFF_LIMIT = 3


class ScriptJobArgs(TypedDict):
    script: str
    """File name in milvus_zones/jobs, e.g. "replication.py"."""
    namespace: pulumi.Input[str]
    """Namespace to run in."""
    env: Sequence[Mapping]
    """Container env entries (plain values, or valueFrom secretKeyRef for passwords)."""
    requirement: str
    """The one pip requirement the script imports (pymilvus, pinned)."""
    node_selector: Mapping[str, str]
    """Where the Job's pod may run."""
    image: str
    """Full image reference, e.g. catalog.JOB_IMAGE.ref(plan.image_registry)."""
    deadline_seconds: int
    """activeDeadlineSeconds: the Job, retries included, fails after this long instead of hanging."""
    wait_for: Sequence[pulumi.Resource]
    """What must exist first (Helm releases, DNS records, routes)."""


class ScriptJob(pulumi.ComponentResource):
    """ConfigMap with the script, and a Job that installs its requirement and runs it.

    The names carry a digest of the script and its environment, so any change runs a new Job
    (Pulumi replaces it) while an unchanged one is left alone.
    """

    job_name: pulumi.Output[str]

    def __init__(self, name: str, args: ScriptJobArgs, provider: k8s.Provider,
                 opts: pulumi.ResourceOptions | None = None):
        super().__init__("milvus-zones:index:ScriptJob", name, {}, opts)
        jobs = resources.files("milvus_zones.jobs")
        script = jobs.joinpath(args["script"]).read_text()
        helper = jobs.joinpath(HELPER).read_text()
        fingerprint = repr(sorted((str(e.get("name")), repr(e.get("value"))) for e in args["env"]))
        digest = hashlib.sha256((script + helper + fingerprint + args["requirement"]).encode()).hexdigest()[:8]
        base = f"milvus-zones-{args['script'].removesuffix('.py').replace('_', '-')}-{digest}"
        in_cluster = pulumi.ResourceOptions(parent=self, provider=provider)
        config_map = k8s.core.v1.ConfigMap(
            f"{name}-script",
            metadata={"name": base, "namespace": args["namespace"]},
            data={args["script"]: script, HELPER: helper},
            opts=in_cluster,
        )
        job = k8s.batch.v1.Job(
            f"{name}-job",
            metadata={"name": base, "namespace": args["namespace"]},
            spec={
                # Retries stay within the deadline: a script that cannot finish fails the Job (and
                # `pulumi up`) with its last message instead of running on.
                "backoffLimit": BACKOFF_LIMIT,
                "activeDeadlineSeconds": args["deadline_seconds"],
                "template": {
                    # The label the namespace's egress NetworkPolicy for our Jobs selects (isolation.py).
                    "metadata": {"labels": dict(JOB_SELECTOR)},
                    "spec": {
                        "restartPolicy": "OnFailure",
                        "nodeSelector": dict(args["node_selector"]),
                        "containers": [{
                            "name": "run",
                            "image": args["image"],
                            "command": ["sh", "-c", f"pip install --no-cache-dir --quiet '{args['requirement']}' && "
                                                    f"python /job/{args['script']}"],
                            "env": [dict(e) for e in args["env"]],
                            "volumeMounts": [{"name": "job", "mountPath": "/job", "readOnly": True}],
                        }],
                        "volumes": [{"name": "job", "configMap": {"name": config_map.metadata.name}}],
                    }
                },
            },
            # pulumi-kubernetes waits for a Job to complete, 10 minutes by default (batch/v1 Job await);
            # wait as long as the Job may run, so `pulumi up` reports the Job's own outcome.
            opts=pulumi.ResourceOptions(
                parent=self, provider=provider, depends_on=[*args["wait_for"], config_map],
                custom_timeouts=pulumi.CustomTimeouts(create=f"{args['deadline_seconds'] + 120}s",
                                                      update=f"{args['deadline_seconds'] + 120}s"),
            ),
        )
        self.job_name = job.metadata.name
        self.register_outputs({"job_name": self.job_name})

"""A Kubernetes Job that runs one of milvus_zones/jobs/*.py in the cluster, after what it needs
(its objects: milvus_zones.rendering.job_manifests)."""

from collections.abc import Mapping, Sequence
from typing import TypedDict

import pulumi
import pulumi_kubernetes as k8s

from milvus_zones.rendering import job_manifests as jm

PYMILVUS = "pymilvus==2.6.17"  # update_replicate_configuration with force_promote


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
        in_cluster = pulumi.ResourceOptions(parent=self, provider=provider)
        script, env, requirement = args["script"], args["env"], args["requirement"]
        cm = jm.script_config_map(script, args["namespace"], env, requirement)
        config_map = k8s.core.v1.ConfigMap(f"{name}-script", metadata=cm["metadata"], data=cm["data"], opts=in_cluster)
        manifest = jm.script_job(script, args["namespace"], env, requirement, args["node_selector"], args["image"],
                                 args["deadline_seconds"], config_map.metadata.name)
        deadline = args["deadline_seconds"]
        job = k8s.batch.v1.Job(
            f"{name}-job", metadata=manifest["metadata"], spec=manifest["spec"],
            # pulumi-kubernetes waits for a Job to complete, 10 minutes by default (batch/v1 Job await);
            # wait as long as the Job may run, so `pulumi up` reports the Job's own outcome.
            opts=pulumi.ResourceOptions(
                parent=self, provider=provider, depends_on=[*args["wait_for"], config_map],
                custom_timeouts=pulumi.CustomTimeouts(create=f"{deadline + 120}s", update=f"{deadline + 120}s"),
            ),
        )
        self.job_name = job.metadata.name
        self.register_outputs({"job_name": self.job_name})

"""What the Pulumi program needs from the runtime: the settings, read from the stack's config."""

from typing import Any

import pulumi
from pulumi.runtime import config as runtime_config

from milvus_zones.planning.spec import DeploymentSpec, SpecError
from milvus_zones.planning.stackconfig import format_problems, spec_from_config


def current_config() -> dict[str, object]:
    """Every config key the language host passed, whichever way it passed them."""
    return {**runtime_config.get_config_env(), **runtime_config.CONFIG.get()}


def read_spec() -> DeploymentSpec:
    try:
        spec = spec_from_config(current_config())
        check_fit(spec)
        return spec
    except SpecError as e:
        # RunError: Pulumi reports the message alone, without a Python traceback.
        raise pulumi.RunError(f"invalid stack configuration:\n{format_problems(e)}") from None


def check_fit(spec: DeploymentSpec) -> None:
    """Plan once before anything is created: workloads that do not fit their pools are bad input too."""
    from milvus_zones.planning.plan import plan, plan_cross_region
    from milvus_zones.planning.spec import Mode

    if spec.mode is Mode.CROSS_REGION_HA:
        plan_cross_region(spec)
    else:
        plan(spec)


def read_settings() -> dict[str, Any]:
    """The stack's settings as MilvusZones args (snake_case), checked with the stack config's messages.

    Defaults are left out, so the component applies the same ones; the password stays a secret.
    """
    spec = read_spec()
    settings = spec.model_dump(mode="json", exclude_none=True, exclude_defaults=True)
    settings.update(mode=str(spec.mode), region=spec.region, zones=list(spec.zones))
    settings["root_password"] = pulumi.Config().require_secret("rootPassword")
    return settings

"""Entry point of the policy pack for `pulumi preview --policy-pack policies`.

Only builds the pack: constructing PolicyPack starts the analyzer's gRPC server and never returns.
The policies live in milvus_zones_policies, which the offline runner imports too.
"""

from milvus_zones_policies import (
    ALL_POLICIES,
    DEFAULT_ENFORCEMENT_LEVEL,
    PACK_DESCRIPTION,
    PACK_NAME,
)
from pulumi_policy import PolicyPack

PolicyPack(
    name=PACK_NAME,
    policies=ALL_POLICIES,
    enforcement_level=DEFAULT_ENFORCEMENT_LEVEL,
    description=PACK_DESCRIPTION,
)

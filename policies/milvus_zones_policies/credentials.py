"""No static credentials in resource inputs.

pulumi-policy hands policies secret values already unwrapped, so a Pulumi secret and a literal look
the same: the rule judges by where a value sits. Passwords belong in a Kubernetes Secret's
`data`/`stringData` (or the managed API's own password field); access keys belong nowhere, since
RRSA gives pods RAM roles.
"""

from __future__ import annotations

import re

import yaml

from ._policy import MANDATORY, resource_policy
from .model.values import is_map, walk

SECRET_TYPE = "kubernetes:core/v1:Secret"
ACCESS_KEY_TYPE = "alicloud:ram/accessKey:AccessKey"
HELM_TYPES = frozenset({"kubernetes:helm.sh/v3:Release", "kubernetes:helm.sh/v4:Chart", "kubernetes:helm.sh/v3:Chart"})
# Where a password legitimately is an input: the provider marks it secret and the API stores it hashed.
ALLOWED_FIELDS = {
    SECRET_TYPE: ({"data"}, {"stringData"}),
    "alicloud:index/milvusInstance:MilvusInstance": ({"dbAdminPassword"},),
}
_SENSITIVE_SUFFIXES = ("password", "passwd", "accesskey", "accesskeyid", "accesskeysecret", "secretkey",
                       "secretaccesskey", "secretaccesskeyid")
_ALIBABA_AK_ID = re.compile(r"^LTAI[0-9A-Za-z]{12,28}$")


def sensitive_key(key: str) -> bool:
    k = re.sub(r"[^a-z0-9]", "", key.lower())
    return k.endswith(_SENSITIVE_SUFFIXES)


def _allowed(resource_type: str, path: tuple[str, ...]) -> bool:
    return any(path[:1] and path[0] in fields for fields in ALLOWED_FIELDS.get(resource_type, ()))


def findings(resource_type: str, props) -> list[str]:
    """Paths of literal credentials in a resource's inputs (config files inside Helm values included)."""
    found: list[str] = []

    def scan(value, prefix: tuple[str, ...]) -> None:
        for path, leaf in walk(value, prefix):
            if _allowed(resource_type, path):
                continue
            key = next((p for p in reversed(path) if not p.isdigit()), "")
            dotted = ".".join(path)
            if isinstance(leaf, str) and leaf.strip():
                if sensitive_key(key):
                    found.append(dotted)
                elif _ALIBABA_AK_ID.match(leaf.strip()):
                    found.append(f"{dotted} (an AccessKey ID)")
                elif resource_type in HELM_TYPES and "extraConfigFiles" in path and \
                        path[-1].endswith((".yaml", ".yml")):
                    try:
                        doc = yaml.safe_load(leaf)
                    except yaml.YAMLError:
                        doc = None
                    if isinstance(doc, dict):
                        scan(doc, path)
        # env lists: [{name: MINIO_SECRET_KEY, value: ...}] carry the key in `name`
        for path, leaf in walk(value, prefix):
            if path and path[-1] == "name" and isinstance(leaf, str) and sensitive_key(leaf):
                parent = _at(value, path[len(prefix):-1])
                if is_map(parent) and isinstance(parent.get("value"), str) and parent.get("value").strip():
                    found.append(".".join(path[:-1]) + f" (env {leaf})")

    scan(props, ())
    return found


def _at(value, path):
    for p in path:
        value = value[int(p)] if p.isdigit() and not is_map(value) else value[p]
    return value


@resource_policy(
    name="no-plaintext-credentials",
    description="No access key or plaintext password in any resource input (Helm values and their config "
                "files included); passwords live in Kubernetes Secrets, cloud access goes through RRSA.",
    level=MANDATORY,
    remediation="Move passwords into a kubernetes core/v1 Secret (stringData) and reference it; drop access "
                "keys and give pods a RAM role through RRSA (externalS3.useIAM with cloudProvider aliyun).",
    tags=["security"],
)
def no_plaintext_credentials(args, report):
    if args.resource_type == ACCESS_KEY_TYPE:
        report(f"{args.name} creates a long-lived RAM AccessKey; use RRSA (a RAM role per service account).")
        return
    for where in findings(args.resource_type, args.props):
        report(f"{args.name} has a literal credential at {where}; keep it in a Kubernetes Secret, or use "
               "RRSA instead of access keys.")

"""KMS keys: enabled, rotated, protected against deletion (resource policies on the key's inputs)."""

from __future__ import annotations

from ._policy import MANDATORY, resource_policy
from .cloud import KMS_KEY, prop
from .model.values import truthy


@resource_policy(
    name="kms-key-rotation",
    description="KMS keys rotate automatically (automaticRotation Enabled), limiting what one key version "
                "protects.",
    level=MANDATORY,
    remediation="Set automaticRotation Enabled and a rotationInterval (e.g. 31536000s, a year).",
    tags=["security", "encryption"],
    peers={"CKV_ALI_27": "", "kms-key-rotation-enabled": ""},
)
def kms_key_rotation(args, report):
    if args.resource_type == KMS_KEY and prop(args.props, "automaticRotation") != "Enabled":
        report(f"KMS key {args.name} does not rotate; set automaticRotation Enabled.")


@resource_policy(
    name="kms-key-deletion-protected",
    description="KMS keys have deletion protection, and their pending-deletion window is at least 7 days: "
                "deleting a key makes what it encrypted (Secrets, bucket objects) unreadable.",
    level=MANDATORY,
    remediation="Set deletionProtection Enabled and pendingWindowInDays (7-366, 30 by default in milvus-zones).",
    tags=["data-safety", "encryption"],
    peers={"kms-key-delete-protection-enabled": ""},
)
def kms_key_deletion_protected(args, report):
    if args.resource_type != KMS_KEY:
        return
    if prop(args.props, "deletionProtection") != "Enabled":
        report(f"KMS key {args.name} has no deletion protection; set deletionProtection Enabled.")
    window = prop(args.props, "pendingWindowInDays")
    if isinstance(window, (int, float)) and window < 7:
        report(f"KMS key {args.name} has a pending-deletion window of {int(window)} days; KMS needs 7 to 366.")


@resource_policy(
    name="kms-key-enabled",
    description="KMS keys the stack creates are enabled; a disabled key stops every service that encrypts "
                "with it.",
    level=MANDATORY,
    remediation="Leave status unset (Enabled) or set it to Enabled; retire a key by rotating, not by disabling it.",
    tags=["reliability", "encryption"],
    peers={"CKV_ALI_28": ""},
)
def kms_key_enabled(args, report):
    if args.resource_type != KMS_KEY:
        return
    status = prop(args.props, "status") or prop(args.props, "keyState")
    enabled = prop(args.props, "isEnabled")
    if (status and status != "Enabled") or (enabled is not None and not truthy(enabled)):
        report(f"KMS key {args.name} is {status or 'disabled'}; set status Enabled.")

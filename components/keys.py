"""The one way the components create a KMS key: rotated yearly, deletion-protected, protected in Pulumi."""


import pulumi
import pulumi_alicloud as alicloud

ROTATION_INTERVAL = "31536000s"  # a year; KMS accepts 7 to 365 days


def protected_key(name: str, description: str, pending_window_days: int, tags: dict[str, str],
                  opts: pulumi.ResourceOptions) -> alicloud.kms.Key:
    """A symmetric software key. What it encrypts is unreadable without it, so neither KMS (deletion
    protection) nor a routine `pulumi destroy` (protect) deletes it; a deliberate deletion still waits
    `pending_window_days` (7-366) before KMS destroys the key material."""
    return alicloud.kms.Key(
        name,
        description=description,
        key_spec="Aliyun_AES_256",
        key_usage="ENCRYPT/DECRYPT",
        protection_level="SOFTWARE",
        automatic_rotation="Enabled",
        rotation_interval=ROTATION_INTERVAL,
        deletion_protection="Enabled",
        deletion_protection_description="Encrypts data of a milvus-zones stack",
        pending_window_in_days=pending_window_days,
        tags=tags,
        opts=pulumi.ResourceOptions.merge(opts, pulumi.ResourceOptions(protect=True)),
    )

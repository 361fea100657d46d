"""The replace-on-change data: known cases from the providers' source, names the installed SDKs really
take, and the extraction script on a tiny synthetic Go source."""

from __future__ import annotations

import importlib
import importlib.util
import inspect
import json
import re
import subprocess
import sys
from pathlib import Path

import pytest

from milvus_zones.analysis.diff import replace_rules

ROOT = Path(__file__).resolve().parents[2]
TYPES = replace_rules()["types"]


@pytest.mark.parametrize(("token", "path"), [
    ("alicloud:oss/bucket:Bucket", "bucket"),                      # a bucket's name
    ("alicloud:oss/bucket:Bucket", "redundancyType"),              # LRS <-> ZRS is a new bucket
    ("alicloud:vpc/switch:Switch", "zoneId"),
    ("alicloud:vpc/switch:Switch", "cidrBlock"),
    ("alicloud:cs/nodePool:NodePool", "clusterId"),
    ("alicloud:cs/nodePool:NodePool", "securityGroupIds"),
    ("alicloud:cs/managedKubernetes:ManagedKubernetes", "serviceCidr"),
    ("alicloud:cs/managedKubernetes:ManagedKubernetes", "podCidr"),
    ("alicloud:kms/key:Key", "keySpec"),
    ("alicloud:index/milvusInstance:MilvusInstance", "vswitchIds[*].zoneId"),
    ("kubernetes:helm.sh/v3:Release", "name"),
    ("kubernetes:helm.sh/v3:Release", "namespace"),
    ("kubernetes:batch/v1:Job", "spec.template"),
    ("kubernetes:storage.k8s.io/v1:StorageClass", "provisioner"),
    ("kubernetes:rbac.authorization.k8s.io/v1:RoleBinding", "roleRef"),
    ("kubernetes:apps/v1:Deployment", "metadata.name"),
])
def test_known_replace_on_change_inputs(token, path):
    assert path in TYPES[token]["replace"]


@pytest.mark.parametrize(("token", "path"), [
    ("alicloud:cs/nodePool:NodePool", "desiredSize"),       # scaling a pool is an update
    ("alicloud:cs/nodePool:NodePool", "instanceTypes"),
    ("alicloud:cs/managedKubernetes:ManagedKubernetes", "vswitchIds"),
    ("alicloud:oss/bucket:Bucket", "versioning"),
    ("kubernetes:helm.sh/v3:Release", "values"),
    ("kubernetes:apps/v1:Deployment", "spec.template"),
])
def test_updatable_inputs_are_not_replace_on_change(token, path):
    assert path not in TYPES[token]["replace"]


def test_configmap_and_secret_data_replace_unless_the_provider_makes_them_mutable():
    assert TYPES["kubernetes:core/v1:ConfigMap"]["replace_unless_mutable"] == {
        "provider": "enableConfigMapMutable", "paths": ["binaryData", "data"]}
    assert TYPES["kubernetes:core/v1:Secret"]["replace_unless_mutable"]["provider"] == "enableSecretMutable"


def _snake(name: str) -> str:
    return re.sub(r"(?<!^)(?=[A-Z])", "_", name).lower()


@pytest.mark.parametrize("token", sorted(t for t in TYPES if t.startswith("alicloud:")))
def test_alicloud_paths_are_inputs_of_the_installed_sdk(token):
    """Derived from the source of an older bridge (see docs/upgrades.md): every top-level input it names
    must still be an input of the installed pulumi-alicloud's resource."""
    _, module, cls = token.split(":")
    module = module.split("/")[0]
    resource = getattr(importlib.import_module("pulumi_alicloud" if module == "index" else f"pulumi_alicloud.{module}"),
                       cls)
    params = set(inspect.signature(resource._internal_init).parameters)
    for path in TYPES[token]["replace"]:
        assert _snake(path.split(".")[0].removesuffix("[*]")) in params, (token, path)


def _git_repo(path: Path, files: dict[str, str]) -> Path:
    for name, text in files.items():
        (path / name).parent.mkdir(parents=True, exist_ok=True)
        (path / name).write_text(text)
    run = {"cwd": path, "check": True, "capture_output": True}
    subprocess.run(["git", "init", "-q", "-b", "main"], **run)
    subprocess.run(["git", "add", "-A"], **run)
    subprocess.run(["git", "-c", "user.name=t", "-c", "user.email=t@t", "commit", "-qm", "fixture"], **run)
    subprocess.run(["git", "tag", "v1.0.0"], **run)
    return path


TF_RESOURCE = '''package alicloud

import "github.com/hashicorp/terraform-plugin-sdk/helper/schema"

func resourceAliCloudThing() *schema.Resource {
	return &schema.Resource{
		CustomizeDiff: func(d *schema.ResourceDiff, m interface{}) error {
			if d.HasChange("mode") { return d.ForceNew("mode") }  // "ForceNew: true" in a comment, {
			return nil
		},
		Schema: map[string]*schema.Schema{
			"name": {
				Type:     schema.TypeString,
				Required: true,
				ForceNew: true,
			},
			"size": {Type: schema.TypeInt, Optional: true, ForceNew: false},
			"mode": {Type: schema.TypeString, Optional: true, Description: "not ForceNew: true here {"},
			"rule": {
				Type:     schema.TypeList,
				Optional: true,
				Elem: &schema.Resource{
					Schema: map[string]*schema.Schema{
						"zone_id": {Type: schema.TypeString, Required: true, ForceNew: true},
						"weight":  {Type: schema.TypeInt, Optional: true},
					},
				},
			},
			"spec": {
				Type:     schema.TypeList,
				MaxItems: 1,
				Optional: true,
				Elem: &schema.Resource{Schema: map[string]*schema.Schema{
					"disk_category": {Type: schema.TypeString, Optional: true, ForceNew: true},
				}},
			},
			"tags": tagsSchema(),
		},
	}
}
'''

K8S_DIFF = '''package provider

func (k *kubeProvider) forceNewProperties(obj *unstructured.Unstructured) []string {
	props := metadataForceNewProperties(".metadata")
	if clients.IsSecret(obj) && (!k.enableSecretMutable || clients.IsImmutable(obj)) {
		props = append(props, properties{".type", ".data"}...)
	} else if clients.IsConfigMap(obj) && (!k.enableConfigMapMutable || clients.IsImmutable(obj)) {
		props = append(props, properties{".data"}...)
	}
	return props
}

type properties []string

var forceNew = _groups{
	"apps": _versions{
		"v1": _kinds{"Widget": widget},
	},
}

var widget = append(
	properties{
		".spec.selector",
	},
	containerForceNewProperties(".spec.containers[*]")...,
)

func metadataForceNewProperties(prefix string) properties {
	return properties{
		prefix + ".name",
		prefix + ".namespace",
	}
}

func containerForceNewProperties(prefixes ...string) properties {
	var props properties
	for _, prefix := range prefixes {
		props = append(props, properties{
			prefix + ".image",
		}...)
	}
	return props
}
'''


def test_extraction_script_on_synthetic_sources(tmp_path):
    spec = importlib.util.spec_from_file_location("replace_on_change", ROOT / "scripts" / "replace_on_change.py")
    script = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = script  # its dataclasses look their module up
    spec.loader.exec_module(script)
    tf = _git_repo(tmp_path / "tf", {
        "alicloud/provider.go": 'var r = map[string]*schema.Resource{\n\t"alicloud_thing": resourceAliCloudThing(),\n}\n',
        "alicloud/resource_alicloud_thing.go": TF_RESOURCE})
    meta = {"auto-aliasing": {"resources": {"alicloud_thing": {
        "current": "alicloud:demo/thing:Thing",
        "fields": {"rule": {"maxItemsOne": False}, "spec": {"maxItemsOne": True}}}}}}
    ali = _git_repo(tmp_path / "ali", {
        "provider/go.mod": "module x\n\nrequire (\n\tgithub.com/aliyun/terraform-provider-alicloud v1.0.0\n)\n",
        "provider/cmd/pulumi-resource-alicloud/bridge-metadata.json": json.dumps(meta)})
    kube = _git_repo(tmp_path / "kube", {
        "provider/pkg/provider/diff.go": K8S_DIFF,
        "provider/pkg/provider/helm_release.go": 'forceNewFields := []string{".name", ".namespace"}\n'})
    out = tmp_path / "data.json"
    assert script.main(["--alicloud", str(ali), "--terraform", str(tf), "--kubernetes", str(kube), "--output", str(out),
                        "--type", "alicloud:demo/thing:Thing", "--type", "kubernetes:apps/v1:Widget",
                        "--type", "kubernetes:helm.sh/v3:Release", "--type", "kubernetes:core/v1:ConfigMap"]) == 0
    data = json.loads(out.read_text())
    assert data["sources"]["terraform-provider-alicloud"] == "v1.0.0"
    thing = data["types"]["alicloud:demo/thing:Thing"]
    # name (ForceNew), mode (d.ForceNew in CustomizeDiff), rule's zone_id (a list: pluralised, [*]), the
    # flattened spec block's disk_category; not size (ForceNew: false), nor what strings and comments say.
    assert thing["replace"] == ["mode", "name", "rules[*].zoneId", "spec.diskCategory"]
    assert thing["terraform"] == "alicloud_thing"
    widget = data["types"]["kubernetes:apps/v1:Widget"]["replace"]
    assert widget == ["metadata.name", "metadata.namespace", "spec.containers[*].image", "spec.selector"]
    assert data["types"]["kubernetes:helm.sh/v3:Release"]["replace"] == ["name", "namespace"]
    assert data["types"]["kubernetes:core/v1:ConfigMap"]["replace_unless_mutable"] == {
        "provider": "enableConfigMapMutable", "paths": ["data"]}

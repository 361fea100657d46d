"""Run a Pulumi Python program offline, under the SDK's mock engine, and record its resource graph.

The Pulumi CLI is not needed: the program runs in this process against a `MockMonitor` subclass
that keeps every `RegisterResource` request (type, name, parent, inputs, dependencies, property
dependencies, options). Providers are faked by `OfflineMocks`, which echoes inputs as outputs and
adds the few computed outputs the programs here read (cluster ids, RRSA metadata, kubeconfig).
"""

from __future__ import annotations

import contextlib
import hashlib
import io
import json
import os
import runpy
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pulumi
import yaml
from google.protobuf import json_format
from pulumi.runtime import mocks as pulumi_mocks
from pulumi.runtime import settings as pulumi_settings
from pulumi.runtime.config import set_all_config
from pulumi.runtime.stack import run_in_stack
from pulumi.runtime.sync_await import _sync_await

SIG_KEY = "4dabf18193072939515e22adb298388d"
SECRET_SIG = "1b47061264138c4ac30d75fd1eb44270"
RESOURCE_SIG = "5cf8f73096256a8f31e491e813e4eb8e"
UNKNOWN = "04da6b54-80e4-46f7-96ec-b56ff0331ba9"
SECRET_MARK = "[secret]"
PLACEHOLDER_SECRET = "offline-plan-placeholder-secret"


class ProgramError(Exception):
    """The program refused its input or failed; the message is meant for the user as is.
    `problems`: the broken rules one by one (stackconfig.Problem), when they are known; `path`:
    the stack file they are in."""

    def __init__(self, message: str, problems: list | None = None, path: Path | None = None):
        super().__init__(message)
        self.problems = list(problems or [])
        self.path = path


@dataclass
class Resource:
    urn: str
    type: str
    name: str
    custom: bool
    parent: str
    provider: str
    id: str
    inputs_wire: dict[str, Any]  # protobuf-JSON form, with secret and resource signatures
    outputs_wire: dict[str, Any]
    dependencies: list[str]
    property_dependencies: dict[str, list[str]]
    protect: bool = False
    retain_on_delete: bool = False
    ignore_changes: list[str] = field(default_factory=list)
    delete_before_replace: bool = False
    source: tuple[str, int] | None = None  # (file URI, line) of the program code that registered it
    external: bool = False  # read with `Resource.get`: in the graph, never created or deleted

    @property
    def inputs(self) -> dict[str, Any]:
        """Plain inputs, secrets shown as '[secret]' like `pulumi preview --json`."""
        return plain(self.inputs_wire)

    @property
    def outputs(self) -> dict[str, Any]:
        return plain(self.outputs_wire)

    def reveal(self) -> dict[str, Any]:
        """Inputs with secret values unwrapped (tests use this to prove a secret is the right one)."""
        return plain(self.inputs_wire, reveal=True)


@dataclass
class Graph:
    project: str
    stack: str
    resources: list[Resource]
    outputs_wire: dict[str, Any]
    stack_urn: str

    @property
    def outputs(self) -> dict[str, Any]:
        return plain(self.outputs_wire)

    def of_type(self, type_: str) -> list[Resource]:
        return [r for r in self.resources if r.type == type_]

    def by_urn(self, urn: str) -> Resource | None:
        return next((r for r in self.resources if r.urn == urn), None)


def plain(value: Any, reveal: bool = False) -> Any:
    """Protobuf-JSON property value -> plain JSON value."""
    if isinstance(value, list):
        return [plain(v, reveal) for v in value]
    if isinstance(value, dict):
        sig = value.get(SIG_KEY)
        if sig == SECRET_SIG:
            return plain(value.get("value"), reveal) if reveal else SECRET_MARK
        if sig == RESOURCE_SIG:
            return value.get("urn")
        if sig is not None:
            return {k: plain(v, reveal) for k, v in value.items() if k != SIG_KEY}
        return {k: plain(v, reveal) for k, v in value.items()}
    if value == UNKNOWN:
        return "[unknown]"
    if isinstance(value, float) and value.is_integer():
        return int(value)  # protobuf carries every number as a double
    return value


class OfflineMocks(pulumi.runtime.Mocks):
    """Provider stand-ins: outputs echo inputs, plus what a real provider would compute."""

    def __init__(self) -> None:
        self.state: dict[tuple[str, str], dict[str, Any]] = {}  # (type, id) -> outputs of what this run created

    def new_resource(self, args: pulumi.runtime.MockResourceArgs):
        if args.resource_id and (args.typ, args.resource_id) in self.state:
            # A read of what this program created answers with that resource's state, not the read's hints.
            return args.resource_id, dict(self.state[(args.typ, args.resource_id)])
        rid, outputs = self._new(args)
        if not args.resource_id:
            self.state[(args.typ, rid)] = outputs
        return rid, outputs

    def _new(self, args: pulumi.runtime.MockResourceArgs):
        outputs = dict(args.inputs)
        rid = f"{args.name}-id"
        if args.resource_id:  # a read: the cloud holds what was asked for, under the id asked for
            rid = args.resource_id
            if args.typ == "alicloud:cs/nodePool:NodePool" and ":" in rid:
                outputs.update(clusterId=rid.split(":", 1)[0], nodePoolId=rid.split(":", 1)[1])
            return rid, outputs
        if args.typ == "alicloud:cs/nodePool:NodePool":
            # The provider's id is <cluster_id>:<node_pool_id> (its import id); node_pool_id is np + hex.
            outputs["nodePoolId"] = "np" + hashlib.sha256(args.name.encode()).hexdigest()[:24]
            rid = f"{args.inputs.get('clusterId', 'c-offline')}:{outputs['nodePoolId']}"
        elif args.typ == "alicloud:cs/managedKubernetes:ManagedKubernetes":
            outputs["rrsaMetadata"] = {
                "enabled": bool(args.inputs.get("enableRrsa")),
                "ramOidcProviderArn": f"acs:ram::1234567890123456:oidc-provider/ack-rrsa-{rid}",
                "ramOidcProviderName": f"ack-rrsa-{rid}",
                "rrsaOidcIssuerUrl": f"https://oidc-ack-{args.inputs.get('zoneIds', ['x'])[0]}.example/{rid}",
            }
        elif args.typ == "alicloud:ram/role:Role":
            outputs["arn"] = f"acs:ram::1234567890123456:role/{args.inputs.get('roleName', args.name)}"
        elif args.typ == "alicloud:vpc/natGateway:NatGateway":
            outputs["snatTableIds"] = f"stb-{rid}"
        elif args.typ == "alicloud:ecs/eipAddress:EipAddress":
            outputs["ipAddress"] = "203.0.113.10"
        elif args.typ == "alicloud:oss/bucket:Bucket":
            region = "offline"
            outputs["extranetEndpoint"] = f"oss-{region}.aliyuncs.com"
            outputs["intranetEndpoint"] = f"oss-{region}-internal.aliyuncs.com"
        elif args.typ == "alicloud:kms/key:Key":
            outputs["arn"] = f"acs:kms:offline:1234567890123456:key/{rid}"
        elif args.typ == "alicloud:cen/transitRouter:TransitRouter":
            outputs["transitRouterId"] = f"tr-{rid}"
        elif args.typ in ("alicloud:cen/transitRouterVpcAttachment:TransitRouterVpcAttachment",
                          "alicloud:cen/transitRouterPeerAttachment:TransitRouterPeerAttachment"):
            outputs["transitRouterAttachmentId"] = f"tr-attach-{rid}"
        elif args.typ == "alicloud:cen/transitRouterRouteTable:TransitRouterRouteTable":
            outputs["transitRouterRouteTableId"] = f"vtb-{rid}"
        elif args.typ == "kubernetes:helm.sh/v3:Release":
            outputs["status"] = {"name": args.inputs.get("name", args.name), "status": "deployed",
                                 "namespace": args.inputs.get("namespace", "default")}
        return rid, outputs

    def call(self, args: pulumi.runtime.MockCallArgs):
        # Data sources about what already exists answer as a cloud holding what was asked for, filters
        # included (a vSwitch looked up in zone z is in zone z); tests that need a refusal mock differently.
        if args.token == "alicloud:vpc/getSwitches:getSwitches":
            a = args.args
            return {"ids": list(a.get("ids") or []), "names": [], "vswitches": [
                {"id": i, "vswitchId": i, "zoneId": a.get("zoneId", ""), "vpcId": a.get("vpcId", ""),
                 "cidrBlock": "", "name": i, "vswitchName": i, "status": "Available", "description": "",
                 "availableIpAddressCount": 0, "creationTime": "", "enableIpv6": False, "ipv6CidrBlock": "",
                 "isDefault": False, "resourceGroupId": "", "routeTableId": "", "tags": {}}
                for i in a.get("ids") or []]}
        if args.token == "alicloud:cs/getManagedKubernetesClusters:getManagedKubernetesClusters":
            return {"ids": list(args.args.get("ids") or []), "names": [], "clusters": [
                {"id": cid, "name": cid, "rrsaConfig": {
                    "enabled": True, "ramOidcProviderArn": f"acs:ram::1234567890123456:oidc-provider/ack-rrsa-{cid}",
                    "ramOidcProviderName": f"ack-rrsa-{cid}", "rrsaOidcIssuerUrl": f"https://oidc-ack.example/{cid}"}}
                for cid in args.args.get("ids") or []]}
        if args.token == "kubernetes:yaml:decode":  # what the provider does for yaml.ConfigGroup/ConfigFile
            import yaml

            return {"result": [d for d in yaml.safe_load_all(str(args.args.get("text") or "")) if isinstance(d, dict)]}
        if args.token == "kubernetes:helm:template":
            return {"result": _helm_template(args.args.get("jsonOpts"))}
        if args.token == "alicloud:cs/getClusterCredential:getClusterCredential":
            cid = args.args.get("clusterId", "cluster")
            return {
                "clusterId": cid,
                "kubeConfig": _FAKE_KUBECONFIG.format(cluster=cid),
                "certificateAuthority": {},
            }
        return {}


def _helm_template(json_opts: Any) -> list[dict]:
    """`helm template` of a helm.v3.Chart with a local chart (`path`: a directory or .tgz), as the
    provider runs it: Helm's own Go library through helm-python-sdk when it is installed (the tests'
    extra), the chart's objects in Helm's order. A chart from a repository (no network here) or without
    the SDK renders nothing, as before: the Chart then has no children offline."""
    try:
        opts = json.loads(json_opts) if isinstance(json_opts, str) else dict(json_opts or {})
        path = opts.get("path")
        if not path or not Path(path).exists():
            return []
        from helm_python import Chart  # optional: only for local charts under the mock engine
    except (ImportError, ValueError, TypeError):
        return []
    import yaml

    chart = Chart.load(str(path))
    files = chart.render(opts.get("values") or {}, name=opts.get("release_name") or "release",
                         namespace=opts.get("namespace") or "default", is_install=True, revision=1)
    docs = []
    for name, text in sorted(files.items()):
        if name.endswith((".yaml", ".yml")) and text.strip():
            docs += [d for d in yaml.safe_load_all(text) if isinstance(d, dict)]
    return docs


_FAKE_KUBECONFIG = """apiVersion: v1
kind: Config
clusters:
- name: {cluster}
  cluster: {{server: "https://{cluster}.offline.invalid:6443"}}
contexts:
- name: {cluster}
  context: {{cluster: {cluster}, user: offline}}
current-context: {cluster}
users:
- name: offline
  user: {{token: offline}}
"""


class RecordingMonitor(pulumi_mocks.MockMonitor):
    """A MockMonitor that keeps the whole request of every resource registration."""

    def __init__(self, mocks: pulumi.runtime.Mocks):
        super().__init__(mocks)
        self.recorded: list[Resource] = []
        self.outputs: dict[str, dict[str, Any]] = {}

    def make_urn(self, parent: str, type_: str, name: str) -> str:
        # As the engine builds them: the whole chain of parent types, without the root stack's.
        # (The SDK's MockMonitor keeps only the nearest parent, so `--target` URNs would not match.)
        if parent:
            qualified = parent.split("::")[2]
            if qualified != "pulumi:pulumi:Stack":
                type_ = f"{qualified}${type_}"
        return "urn:pulumi:" + "::".join([pulumi.get_stack(), pulumi.get_project(), type_, name])

    def RegisterResource(self, request):
        response = super().RegisterResource(request)
        if request.type == "pulumi:pulumi:Stack":
            return response
        urn = response.urn
        self.recorded.append(
            Resource(
                urn=urn,
                type=request.type,
                name=request.name,
                custom=bool(request.custom),
                parent=request.parent,
                provider=request.provider,
                id=response.id,
                inputs_wire=json_format.MessageToDict(request.object),
                outputs_wire=json_format.MessageToDict(response.object),
                dependencies=list(request.dependencies),
                property_dependencies={k: list(v.urns) for k, v in request.propertyDependencies.items()},
                protect=bool(request.protect),
                retain_on_delete=bool(request.retainOnDelete),
                ignore_changes=list(request.ignoreChanges),
                delete_before_replace=bool(request.deleteBeforeReplace),
                source=((request.sourcePosition.uri, request.sourcePosition.line)
                        if request.HasField("sourcePosition") and request.sourcePosition.uri else None),
            )
        )
        return response

    def ReadResource(self, request):
        # `Resource.get(...)`: an existing resource read into the stack. The engine keeps it in the graph
        # (external, never created or deleted), and policies resolve dependencies on it like any other.
        response = super().ReadResource(request)
        self.recorded.append(
            Resource(
                urn=response.urn,
                type=request.type,
                name=request.name,
                custom=True,
                parent=request.parent,
                provider=request.provider,
                id=request.id,
                inputs_wire=json_format.MessageToDict(request.properties),
                outputs_wire=json_format.MessageToDict(response.properties),
                dependencies=list(request.dependencies),
                property_dependencies={},
                external=True,
            )
        )
        return response

    def RegisterResourceOutputs(self, request):
        self.outputs[request.urn] = json_format.MessageToDict(request.outputs)
        return super().RegisterResourceOutputs(request)


@dataclass(frozen=True)
class StackConfig:
    """A stack config file, read the way the Pulumi CLI reads it (values as strings or objects)."""

    path: Path
    stack: str
    values: dict[str, Any]
    secure_keys: frozenset[str]
    file: Any = None  # the stackconfig.StackFile read (key positions), when read from a file


def read_project(program_dir: Path) -> dict[str, Any]:
    for name in ("Pulumi.yaml", "Pulumi.yml"):
        p = program_dir / name
        if p.exists():
            data = yaml.safe_load(p.read_text()) or {}
            if not isinstance(data, dict) or "name" not in data:
                raise ProgramError(f"{p}: not a Pulumi project file (no 'name')")
            return data
    raise ProgramError(f"{program_dir}: no Pulumi.yaml; --program must be a Pulumi project directory")


def read_stack_config(path: Path, project: dict[str, Any] | None = None) -> StackConfig:
    """Read a stack file strictly (milvus_zones.stackconfig.load_stack_file) against the project's
    config schema: `project`, or the Pulumi.yaml found beside the file or one folder up."""
    from milvus_zones.engine.stackfile import StackFileError, load_stack_file

    path = Path(path)
    if project is None:
        for folder in (path.parent, path.parent.parent):
            try:
                project = read_project(folder)
                break
            except ProgramError:
                continue
    try:
        sf = load_stack_file(path, project)
    except StackFileError as e:
        raise ProgramError(str(e), problems=e.problems, path=path) from None
    values = {k: PLACEHOLDER_SECRET if k in sf.secure_keys else v for k, v in sf.values.items()}
    stack = path.name.removeprefix("Pulumi.").rsplit(".", 1)[0]
    return StackConfig(path, stack, values, sf.secure_keys, sf)


def config_for_program(project: dict[str, Any], stack_cfg: StackConfig) -> tuple[dict[str, str], list[str]]:
    """The flat config map and secret keys the language host would pass, with project defaults applied."""
    name = project["name"]
    flat: dict[str, str] = {}
    secrets = set(stack_cfg.secure_keys)
    for key, schema in (project.get("config") or {}).items():
        full = key if ":" in key else f"{name}:{key}"
        if isinstance(schema, dict):
            if schema.get("secret") and full not in stack_cfg.values:
                # Set with `pulumi config set --secret` in a real stack; offline it is a placeholder.
                flat[full] = PLACEHOLDER_SECRET
                secrets.add(full)
            elif "default" in schema:
                flat[full] = _config_string(schema["default"])
        elif schema is not None:
            flat[full] = _config_string(schema)
    for key, value in stack_cfg.values.items():
        full = key if ":" in key else f"{name}:{key}"
        flat[full] = _config_string(value)
    return flat, sorted(secrets)


def _config_string(value: Any) -> str:
    if isinstance(value, str):
        return value
    return json.dumps(value)


def run_program(program_dir: Path, stack_cfg: StackConfig, preview: bool = False) -> Graph:
    """Run `program_dir/__main__.py` for the stack under the recording mock engine."""
    program_dir = program_dir.resolve()
    project = read_project(program_dir)
    main = project.get("main")
    entry = program_dir / (main or "")
    if entry.is_dir() or not main:
        entry = entry / "__main__.py"
    if not entry.exists():
        raise ProgramError(f"{program_dir}: no __main__.py to run")

    flat, secret_keys = config_for_program(project, stack_cfg)
    mocks = OfflineMocks()
    monitor = RecordingMonitor(mocks)
    pulumi_settings.reset_options()
    pulumi_mocks.set_mocks(mocks, project=project["name"], stack=stack_cfg.stack, preview=preview, monitor=monitor)
    set_all_config(flat, secret_keys)
    # set_mocks registers and closes a stack of its own; run the program in a fresh one, as the CLI does.
    pulumi_settings.ROOT.set(None)

    stacks: list[Any] = []

    def program() -> None:
        stacks.append(pulumi_settings.get_root_resource())
        run_path_isolated(entry)

    old_path = list(sys.path)
    sys.path.insert(0, str(program_dir))
    try:
        _sync_await(run_in_stack(program))
    except pulumi.RunError as e:
        raise ProgramError(str(e)) from None
    except Exception as e:
        if os.environ.get("MILVUS_ZONES_DEBUG"):
            raise
        where = _program_frame(e, program_dir)
        raise ProgramError(
            f"the program {entry} failed{where}: {type(e).__name__}: {e} (MILVUS_ZONES_DEBUG=1 shows the traceback)"
        ) from None
    finally:
        sys.path[:] = old_path
    stack_urn = _sync_await(stacks[0].urn.future()) if stacks else ""
    outputs = monitor.outputs.get(stack_urn, {})
    for r in monitor.recorded:
        r.parent = r.parent or stack_urn  # the engine parents top-level resources to the stack
    return Graph(project["name"], stack_cfg.stack, monitor.recorded, outputs, stack_urn)


def _program_frame(e: BaseException, program_dir: Path) -> str:
    """' at file:line' of the innermost frame inside the program directory, if any."""
    import traceback

    frames = [f for f in traceback.extract_tb(e.__traceback__) if f.filename.startswith(str(program_dir))]
    return f" at {frames[-1].filename}:{frames[-1].lineno}" if frames else ""


def run_path_isolated(entry: Path) -> None:
    """Run a program file as __main__ with its directory as the working directory, like the CLI."""
    cwd = os.getcwd()
    os.chdir(entry.parent)
    try:
        with contextlib.redirect_stdout(io.StringIO()):
            runpy.run_path(str(entry), run_name="__main__")
    finally:
        os.chdir(cwd)

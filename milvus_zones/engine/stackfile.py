"""Stack files, read the way a demanding Pulumi CLI would, and edited without losing a comment.

`load_stack_file`: size cap before parsing, UTF-8, YAML errors with line and column, duplicate keys
and aliases refused, one `config:` mapping of `namespace:key` entries in known namespaces, every
value type-checked as written against the project's config schema (Pulumi.yaml), blank values
refused by name, secrets only encrypted. It keeps the position of every key, so reports can point
at it. `edit_stack_text`: ruamel.yaml's round trip, for commands that change a stack file.
"""

from __future__ import annotations

import difflib
import importlib.util
import json
import math
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

_INT_TEXT = re.compile(r"^-?[0-9]+$")


# ---- stack files, read strictly ---------------------------------------------------------------------

# Stack files are a few hundred bytes; anything near this is not one. Checked before reading it.
MAX_STACK_FILE_BYTES = 256 * 1024
MAX_DEPTH = 16  # nesting of a config value; the deepest real one (peer.network.nodeCidrs) is 4
# Top-level keys of a Pulumi stack settings file (Pulumi's workspace.ProjectStack).
STACK_FILE_KEYS = ("config", "environment", "secretsprovider", "encryptedkey", "encryptionsalt")
# Namespaces a stack of this project may configure besides its own: Pulumi's own (pulumi:tags, ...)
# and the providers the program uses, whose keys are read from the installed provider SDKs.
PROVIDER_PACKAGES = {"alicloud": "pulumi_alicloud", "kubernetes": "pulumi_kubernetes"}
PULUMI_KEYS = ("tags", "disable-default-providers", "autonaming")
# Provider settings that are credentials: never plaintext in a file. The environment variables are
# the ones terraform-provider-alicloud (under pulumi-alicloud) reads (alicloud/provider.go DefaultFunc).
PROVIDER_SECRETS = {
    "alicloud:accessKey": "ALIBABA_CLOUD_ACCESS_KEY_ID (or ALICLOUD_ACCESS_KEY)",
    "alicloud:secretKey": "ALIBABA_CLOUD_ACCESS_KEY_SECRET (or ALICLOUD_SECRET_KEY)",
    "alicloud:securityToken": "ALIBABA_CLOUD_SECURITY_TOKEN (or ALICLOUD_SECURITY_TOKEN)",
}


@dataclass(frozen=True)
class Problem:
    """One broken rule of a stack file: the key as written (`ns:key.sub`, '' for the file), what is
    allowed, and where (1-based line and column; None when the key is not in the file)."""

    key: str
    message: str
    line: int | None = None
    column: int | None = None

    def __str__(self) -> str:
        where = f" (line {self.line}" + (f", column {self.column})" if self.column else ")") if self.line else ""
        return f"{self.key + ': ' if self.key else ''}{self.message}{where}"


class StackFileError(Exception):
    def __init__(self, path: Path, problems: list[Problem]):
        self.path = path
        self.problems = problems
        super().__init__(f"invalid stack configuration in {path}:\n" + "\n".join(str(p) for p in problems))


@dataclass(frozen=True)
class StackFile:
    """A stack file as Pulumi reads it: config values (secure ones kept as {'secure': ...}) and the
    position of every key, `ns:key` and nested `ns:key.sub[0]`, as (line, column), 1-based."""

    path: Path
    values: dict[str, Any]
    secure_keys: frozenset[str]
    locations: dict[str, tuple[int, int]] = field(default_factory=dict)
    config_line: int = 1

    def locate(self, key: str) -> tuple[int, int] | None:
        """The position of key, or of its nearest enclosing key that is in the file."""
        while key:
            if key in self.locations:
                return self.locations[key]
            cut = max(key.rfind("."), key.rfind("["))
            key = key[:cut] if cut > key.find(":") else ""
        return None


def _yaml():
    from ruamel.yaml import YAML

    y = YAML(typ="rt", pure=True)
    y.allow_duplicate_keys = False
    return y


def _mark(e: Exception) -> tuple[int | None, int | None]:
    mark = getattr(e, "problem_mark", None) or getattr(e, "context_mark", None)
    if mark is None:
        return None, None
    return mark.line + 1, mark.column + 1


def _read_text(path: Path) -> str:
    try:
        if not path.is_file():
            raise StackFileError(path, [Problem("", "not a regular file; a stack file is a YAML file")])
        size = path.stat().st_size
        if size > MAX_STACK_FILE_BYTES:
            raise StackFileError(path, [Problem("", f"{size} bytes; a stack file is at most {MAX_STACK_FILE_BYTES} "
                                                    "bytes (a few hundred in practice): not read")])
        with path.open("rb") as f:
            data = f.read(MAX_STACK_FILE_BYTES + 1)
    except OSError as e:
        raise StackFileError(path, [Problem("", f"cannot read it ({e.strerror})")]) from None
    if len(data) > MAX_STACK_FILE_BYTES:  # grew, or a special file that reports no size
        raise StackFileError(path, [Problem("", f"more than {MAX_STACK_FILE_BYTES} bytes: not read")])
    try:
        return data.decode("utf-8").removeprefix("\ufeff")
    except UnicodeDecodeError as e:
        line = data[:e.start].count(b"\n") + 1
        column = e.start - (data.rfind(b"\n", 0, e.start) + 1) + 1
        raise StackFileError(path, [Problem("", f"not UTF-8 (byte 0x{data[e.start]:02x}); Pulumi reads stack files "
                                                "as UTF-8", line, column)]) from None


def _parse(path: Path, text: str):
    """YAML -> ruamel's round-trip nodes. Events first: aliases and deep nesting are refused before
    anything is built (a few lines of aliases can expand to gigabytes; deep nesting exhausts the stack)."""
    from ruamel.yaml.error import YAMLError
    from ruamel.yaml.events import AliasEvent, CollectionEndEvent, CollectionStartEvent

    y = _yaml()
    try:
        depth = 0
        for ev in y.parse(text):
            if isinstance(ev, AliasEvent):
                line, col = ev.start_mark.line + 1, ev.start_mark.column + 1
                raise StackFileError(path, [Problem("", f"YAML alias *{ev.anchor}: aliases are not allowed in a stack "
                                                        "file; write the value out", line, col)])
            if isinstance(ev, CollectionStartEvent):
                depth += 1
                if depth > MAX_DEPTH + 2:
                    line, col = ev.start_mark.line + 1, ev.start_mark.column + 1
                    raise StackFileError(path, [Problem("", f"nested more than {MAX_DEPTH} levels deep", line, col)])
            elif isinstance(ev, CollectionEndEvent):
                depth -= 1
        return y.load(text)
    except YAMLError as e:
        line, col = _mark(e)
        problem = getattr(e, "problem", None) or str(e).splitlines()[0]
        kind = "duplicate key" if type(e).__name__ == "DuplicateKeyError" else "not valid YAML"
        if kind == "duplicate key":
            problem = f"{problem}; each key may appear once"
        raise StackFileError(path, [Problem("", f"{kind}: {problem}", line, col)]) from None
    except RecursionError:
        raise StackFileError(path, [Problem("", f"nested more than {MAX_DEPTH} levels deep")]) from None


def _pos(container, key) -> tuple[int, int] | None:
    try:
        line, col = container.lc.key(key) if isinstance(key, str) else container.lc.item(key)
    except (AttributeError, KeyError, IndexError, TypeError):
        return None
    return line + 1, col + 1


class _Plain:
    """ruamel nodes -> plain JSON values, recording positions and refusing what JSON cannot carry."""

    def __init__(self, full_key: str, locations: dict[str, tuple[int, int]], problems: list[Problem]):
        self.full_key = full_key
        self.locations = locations
        self.problems = problems

    def bad(self, path: str, message: str) -> None:
        line, col = self.locations.get(path, (None, None))
        self.problems.append(Problem(path, message, line, col))

    def __call__(self, node: Any, path: str) -> Any:
        from ruamel.yaml.comments import CommentedMap, CommentedSeq

        if isinstance(node, CommentedMap):
            out = {}
            for k, v in node.items():
                if not isinstance(k, str):
                    pos = _pos(node, k)
                    self.problems.append(Problem(path, f"key {k!r} must be a string (quote it)", *(pos or (None, None))))
                    continue
                sub = f"{path}.{k}"
                pos = _pos(node, k)
                if pos:
                    self.locations[sub] = pos
                out[k] = self(v, sub)
            return out
        if isinstance(node, CommentedSeq):
            out_list = []
            for i, v in enumerate(node):
                sub = f"{path}[{i}]"
                pos = _pos(node, i)
                if pos:
                    self.locations[sub] = pos
                out_list.append(self(v, sub))
            return out_list
        if node is None:
            self.bad(path, "blank (null): give a value, or remove the key to get its default")
            return None
        if isinstance(node, bool):
            return bool(node)
        if isinstance(node, int):
            return int(node)
        if isinstance(node, float):
            if not math.isfinite(node):
                self.bad(path, f"{node} is not a number a config value can hold")
            return float(node)
        if isinstance(node, str):
            return str(node)
        self.bad(path, f"a YAML {type(node).__name__} value; quote it to make it a string")
        return None




def _type_problem(value: Any, schema: Mapping[str, Any]) -> str | None:
    """Against a Pulumi.yaml config type, as the user wrote it. Strings of digits / true / false are
    accepted for integer / boolean keys: `pulumi config set` writes them so."""
    kind = schema.get("type")
    if kind == "string":
        if isinstance(value, str):
            return None
        if isinstance(value, (bool, int, float)):
            return f"must be a string; got the YAML {type(value).__name__} {json.dumps(value)}: quote it"
        return f"must be a string; got a {'list' if isinstance(value, list) else 'mapping'}"
    if kind == "integer":
        if (isinstance(value, int) and not isinstance(value, bool)) or (isinstance(value, str) and _INT_TEXT.match(value)):
            return None
        return f"must be an integer; got {json.dumps(value)}"
    if kind == "boolean":
        if isinstance(value, bool) or value in ("true", "false"):
            return None
        return f"must be true or false; got {json.dumps(value)}"
    if kind == "array":
        if not isinstance(value, list):
            return f"must be a list (one `- item` per line); got {json.dumps(value)}"
        items = schema.get("items") or {}
        for i, item in enumerate(value):
            msg = _type_problem(item, items) if items.get("type") else None
            if msg:
                return f"item {i}: {msg}"
        return None
    if kind == "object":
        return None if isinstance(value, dict) else f"must be a mapping (`key: value` lines); got {json.dumps(value)}"
    return None


def _provider_keys(namespace: str) -> frozenset[str] | None:
    """Config keys a provider SDK reads (`__config__.get('key')` in its config/vars.py), or None."""
    module = PROVIDER_PACKAGES.get(namespace)
    spec = importlib.util.find_spec(module) if module else None
    if spec is None or not spec.submodule_search_locations:
        return None
    vars_py = Path(next(iter(spec.submodule_search_locations))) / "config" / "vars.py"
    try:
        text = vars_py.read_text()
    except OSError:
        return None
    return frozenset(re.findall(r"__config__\.get\w*\('([A-Za-z0-9_]+)'\)", text))


def _did_you_mean(word: str, options) -> str:
    close = difflib.get_close_matches(word, list(options), n=1)
    return f" (did you mean {close[0]!r}?)" if close else ""


def load_stack_file(path: Path, project: Mapping[str, Any] | None = None) -> StackFile:
    """Read and check a stack file; every problem found is reported together (StackFileError)."""
    path = Path(path)
    text = _read_text(path)
    doc = _parse(path, text)
    from ruamel.yaml.comments import CommentedMap

    if doc is None:
        doc = CommentedMap()
    if not isinstance(doc, CommentedMap):
        raise StackFileError(path, [Problem("", f"a stack file is a YAML mapping with a `config:` key; got a "
                                                f"{'list' if isinstance(doc, list) else type(doc).__name__}", 1, 1)])
    problems: list[Problem] = []
    for key in doc:
        if key not in STACK_FILE_KEYS:
            problems.append(Problem(str(key), f"not a stack file setting{_did_you_mean(str(key), STACK_FILE_KEYS)}; "
                                              f"allowed: {', '.join(STACK_FILE_KEYS)}", *(_pos(doc, key) or (None, None))))
    for key in STACK_FILE_KEYS[2:]:
        if key in doc and not (isinstance(doc[key], str) and doc[key]):
            problems.append(Problem(key, "must be a non-empty string", *(_pos(doc, key) or (None, None))))
    env = doc.get("environment")
    if env is not None and not (isinstance(env, list) and all(isinstance(e, str) and e for e in env)):
        problems.append(Problem("environment", "a list of Pulumi ESC environment names",
                                *(_pos(doc, "environment") or (None, None))))
    config = doc.get("config")
    config_line = (_pos(doc, "config") or (1, 1))[0] if "config" in doc else 1
    if config is None:
        config = CommentedMap()
    if not isinstance(config, CommentedMap):
        problems.append(Problem("config", "must be a mapping of `namespace:key: value` lines",
                                *(_pos(doc, "config") or (None, None))))
        raise StackFileError(path, problems)

    project = project or {}
    project_name = project.get("name")
    schema = {k if ":" in k else f"{project_name}:{k}": v
              for k, v in (project.get("config") or {}).items() if isinstance(v, dict)}
    namespaces = ([project_name] if project_name else []) + ["pulumi", *PROVIDER_PACKAGES]
    values: dict[str, Any] = {}
    secure: set[str] = set()
    locations: dict[str, tuple[int, int]] = {}
    for key, node in config.items():
        pos = _pos(config, key)
        where: tuple[int, int] | tuple[None, None] = pos or (None, None)
        if not isinstance(key, str):
            problems.append(Problem(str(key), "a config key is `namespace:key` text", *where))
            continue
        if pos:
            locations[key] = pos
        if key.count(":") != 1 or not all(key.split(":")):
            ns_hint = f" `{project_name}:{key}`" if project_name and ":" not in key else ""
            problems.append(Problem(key, f"a stack file key is `namespace:key`{', e.g.' + ns_hint if ns_hint else ''}; "
                                         "keys without their namespace are refused", *where))
            continue
        ns, name = key.split(":")
        if project_name and ns not in namespaces:
            problems.append(Problem(key, f"unknown namespace {ns!r}{_did_you_mean(ns, namespaces)}; "
                                         f"allowed: {', '.join(namespaces)}", *where))
            continue
        if ns == project_name and schema and key not in schema:
            declared = [k.split(":", 1)[1] for k in schema if k.startswith(f"{ns}:")]
            problems.append(Problem(key, f"unknown setting{_did_you_mean(name, declared)}; "
                                         f"allowed: {', '.join(declared)}", *where))
            continue
        if ns == "pulumi" and name not in PULUMI_KEYS:
            problems.append(Problem(key, f"not a Pulumi setting; allowed: {', '.join(PULUMI_KEYS)}", *where))
            continue
        if ns in PROVIDER_PACKAGES:
            known = _provider_keys(ns)
            if known is not None and name not in known:
                problems.append(Problem(key, f"not a setting of the {ns} provider{_did_you_mean(name, known)}; "
                                             f"allowed: {', '.join(sorted(known))}", *where))
                continue
        key_schema = schema.get(key, {})
        is_secret = bool(key_schema.get("secret")) or key in PROVIDER_SECRETS
        if isinstance(node, CommentedMap) and "secure" in node:
            cipher = node.get("secure")
            if set(node) != {"secure"} or not isinstance(cipher, str) or not cipher.strip():
                problems.append(Problem(key, "an encrypted value is `secure: <ciphertext>` as "
                                             "`pulumi config set --secret` writes it", *where))
            elif not is_secret and key_schema.get("type") not in (None, "string"):
                problems.append(Problem(key, f"is encrypted, but it is not a secret and an encrypted "
                                             f"{key_schema.get('type')} cannot be checked offline; set it in plaintext",
                                        *where))
            else:
                secure.add(key)
                values[key] = {"secure": str(cipher)}
            continue
        before = len(problems)
        value = _Plain(key, locations, problems)(node, key)
        if len(problems) > before:
            continue
        if is_secret:
            env_hint = (f", or leave it out and set {PROVIDER_SECRETS[key]} in the environment"
                        if key in PROVIDER_SECRETS else "")
            problems.append(Problem(key, f"is a secret and is in plaintext here; Pulumi accepts it only encrypted: "
                                         f"`pulumi config set --secret {key}`{env_hint}", *where))
            continue
        msg = _type_problem(value, key_schema) if key_schema.get("type") else None
        if msg is None and key_schema.get("type") == "string" and value == "" and key_schema.get("default") != "":
            msg = ("blank; give a value" + (f", or remove the key to get its default ({key_schema['default']})"
                                            if "default" in key_schema else ""))
        if msg:
            problems.append(Problem(key, msg, *where))
            continue
        values[key] = value
    if problems:
        raise StackFileError(path, problems)
    return StackFile(path, values, frozenset(secure), locations, config_line)


def _guess_indent(text: str) -> tuple[int, int, int]:
    """(mapping indent, sequence indent, dash offset) as the file writes them: Pulumi writes
    `  key:` / `    - item` (2, 4, 2); hand-written files often `  - item` (2, 2, 0)."""
    lines = [ln for ln in text.splitlines() if ln.strip() and not ln.lstrip().startswith("#")]
    indents = [len(ln) - len(ln.lstrip(" ")) for ln in lines]
    mapping = min((i for i in indents if i > 0), default=2)
    for n, ln in enumerate(lines):
        stripped = ln.lstrip(" ")
        if stripped.startswith("- ") and n > 0 and lines[n - 1].rstrip().endswith(":"):
            offset = max(0, indents[n] - indents[n - 1])
            return mapping, offset + 2, offset
    return mapping, mapping + 2, 2


def edit_stack_text(text: str, changes: Mapping[str, Any]) -> str:
    """Set `config:` keys of a stack file's text with ruamel.yaml's round trip: comments, quoting,
    key order and the file's own indentation are kept (a mapping value is updated in place, entry by
    entry); a key not yet set is added at the end of `config:`. The result is parsed back (duplicate
    keys refused) before it is returned."""
    import io

    from ruamel.yaml.comments import CommentedMap
    from ruamel.yaml.error import YAMLError

    try:
        mapping, sequence, offset = _guess_indent(text)
        y = _yaml()
        y.preserve_quotes = True
        y.width = 4096  # never fold a long value onto a second line
        y.indent(mapping=mapping, sequence=sequence, offset=offset)
        doc = y.load(text)
    except YAMLError as e:
        line, col = _mark(e)
        raise ValueError(f"not valid YAML ({getattr(e, 'problem', e)}) at line {line}, column {col}") from None
    if doc is None:
        doc = CommentedMap()
    if not isinstance(doc, CommentedMap):
        raise ValueError("a stack file is a YAML mapping with a `config:` key")
    if doc.get("config") is None:
        doc["config"] = CommentedMap()
    config = doc["config"]
    if not isinstance(config, CommentedMap):
        raise ValueError("`config:` must be a mapping")
    for key, value in changes.items():
        current = config.get(key)
        if isinstance(value, Mapping) and isinstance(current, CommentedMap):
            # In place, so that the comments of the entries kept stay with them.
            for gone in [k for k in current if k not in value]:
                del current[gone]
            current.update(value)
        else:
            config[key] = value
    out = io.StringIO()
    y.dump(doc, out)
    edited = out.getvalue()
    _yaml().load(edited)  # parses back, one key each
    return edited

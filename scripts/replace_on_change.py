"""Derive, from the providers' own source, which inputs of each resource type we emit force a replacement.

Writes `milvus_zones/analysis/replace_on_change.json` (the derived data is ours; the provider source is
read from checkouts and never copied into the repository):

- Alibaba Cloud (`pulumi-alicloud`, a Terraform bridge): `provider/go.mod` names the
  terraform-provider-alicloud version it bridges; `provider/cmd/pulumi-resource-alicloud/
  bridge-metadata.json` maps each Terraform resource to its Pulumi type token (explicit in
  `provider/resources.go` or inferred by its token strategy) and says which list fields are flattened
  (`maxItemsOne`); in terraform-provider-alicloud, `alicloud/provider.go` names the function that builds
  each resource's schema, and every field of that schema (nested blocks too) with `ForceNew: true`, or
  named by `d.ForceNew("...")` in a CustomizeDiff, forces a new resource. Pulumi names: camelCase, lists
  that are not flattened pluralised (the bridge's rule).
- Kubernetes (`pulumi-kubernetes`): `provider/pkg/provider/diff.go` (the `forceNew` table: group ->
  version -> kind -> paths, `.metadata.name/namespace` for every kind, Secret and ConfigMap data unless
  the provider makes them mutable) and `provider/pkg/provider/helm_release.go` (`helm.sh/v3` Release:
  `.name`, `.namespace`).

Usage (checkouts from the `fetch` tool, bare repositories are fine):

    python scripts/replace_on_change.py --alicloud /path/pulumi-alicloud --alicloud-ref master \\
        --terraform /path/terraform-provider-alicloud --kubernetes /path/pulumi-kubernetes --kubernetes-ref v4.32.0

Without --type, the types already in the data file are extracted again.
"""

from __future__ import annotations

import argparse
import json
import re
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

DATA = Path(__file__).resolve().parent.parent / "milvus_zones" / "analysis" / "replace_on_change.json"


def git_show(repo: Path, ref: str, path: str) -> str:
    return subprocess.run(["git", "-C", str(repo), "show", f"{ref}:{path}"], check=True, capture_output=True,
                          text=True).stdout


def git_commit(repo: Path, ref: str) -> str:
    return subprocess.run(["git", "-C", str(repo), "rev-parse", f"{ref}^{{commit}}"], check=True,
                          capture_output=True, text=True).stdout.strip()


# --- a Go tokenizer: enough to match braces and read composite literals ----------------------------

@dataclass(frozen=True)
class Tok:
    kind: str  # "str", "ident", "num", "punct"
    text: str


_TOKEN = re.compile(r"""
    (?P<ws>\s+) | (?P<line>//[^\n]*) | (?P<block>/\*.*?\*/) |
    (?P<raw>`[^`]*`) | (?P<str>"(?:\\.|[^"\\\n])*") | (?P<rune>'(?:\\.|[^'\\\n])+') |
    (?P<ident>[A-Za-z_][A-Za-z0-9_]*) | (?P<num>[0-9][0-9A-Za-z_.]*) |
    (?P<punct>\.\.\.|:=|&&|\|\||==|!=|<=|>=|[-+*/%&|^!<>=(){}\[\],;:.])
""", re.X | re.S)


def tokenize(src: str) -> list[Tok]:
    out, pos = [], 0
    while pos < len(src):
        m = _TOKEN.match(src, pos)
        if not m:
            raise ValueError(f"cannot tokenize Go source at offset {pos}: {src[pos:pos + 30]!r}")
        pos = m.end()
        kind = m.lastgroup
        if kind in ("ws", "line", "block"):
            continue
        text = m.group()
        if kind in ("raw", "str"):
            out.append(Tok("str", json.loads(text) if kind == "str" else text[1:-1]))
        elif kind == "rune":
            out.append(Tok("num", text))
        else:
            out.append(Tok(kind or "punct", text))
    return out


def matching(toks: list[Tok], i: int) -> int:
    """Index of the token closing the bracket at toks[i]."""
    pairs = {"{": "}", "(": ")", "[": "]"}
    stack = [pairs[toks[i].text]]
    j = i + 1
    while stack:
        t = toks[j]
        if t.kind == "punct" and t.text in pairs:
            stack.append(pairs[t.text])
        elif t.kind == "punct" and t.text in (")", "}", "]") and stack.pop() != t.text:
            raise ValueError("unbalanced brackets in Go source")
        j += 1
    return j - 1


def split_top(toks: list[Tok], start: int, end: int) -> list[tuple[int, int]]:
    """(start, end) ranges of the comma-separated elements between toks[start] and toks[end] (exclusive)."""
    parts, i, s = [], start, start
    while i < end:
        t = toks[i]
        if t.kind == "punct" and t.text in ("{", "(", "["):
            i = matching(toks, i) + 1
            continue
        if t.kind == "punct" and t.text == ",":
            if i > s:
                parts.append((s, i))
            s = i + 1
        i += 1
    if end > s:
        parts.append((s, end))
    return parts


def func_body(toks: list[Tok], name: str) -> tuple[int, int]:
    for i in range(len(toks) - 2):
        if toks[i].text == "func" and toks[i + 1].text == name and toks[i + 2].text == "(":
            j = matching(toks, i + 2) + 1
            while toks[j].text != "{":
                j += 1
            return j, matching(toks, j)
    raise KeyError(f"func {name} not found")


# --- Terraform schemas ------------------------------------------------------------------------------

def schema_map_at(toks: list[Tok], start: int, end: int) -> tuple[int, int] | None:
    """The braces of the first `Schema: map[string]*schema.Schema{...}` in toks[start:end]."""
    for i in range(start, end - 1):
        if toks[i].text == "Schema" and toks[i + 1].text == ":":
            j = i + 2
            while j < end and toks[j].text != "{":
                j += 1
            if j < end and toks[i + 2].text == "map":
                return j, matching(toks, j)
    return None


def force_new_fields(toks: list[Tok], lo: int, hi: int, prefix: str = "") -> list[str]:
    """TF field paths with `ForceNew: true` in the schema map literal between braces lo and hi."""
    found: list[str] = []
    for s, e in split_top(toks, lo + 1, hi):
        if toks[s].kind != "str" or toks[s + 1].text != ":":
            continue
        field = prefix + toks[s].text
        j = s + 2
        while j < e and toks[j].text != "{":
            j += 1
        if j >= e:
            continue  # a schema built by a helper call: not a literal we can read (reported by the caller)
        blo, bhi = j, matching(toks, j)
        for ps, pe in split_top(toks, blo + 1, bhi):
            if (toks[ps].text == "ForceNew" and toks[ps + 1].text == ":" and pe == ps + 3
                    and toks[ps + 2].text == "true"):
                found.append(field)
            if toks[ps].text == "Elem" and toks[ps + 1].text == ":":
                nested = schema_map_at(toks, ps, pe)
                if nested:
                    found += force_new_fields(toks, nested[0], nested[1], field + ".")
    return found


def customize_diff_force_new(src: str) -> list[str]:
    return sorted(set(re.findall(r'\.ForceNew\("([a-z0-9_.]+)"\)', src)))


def tf_resource_functions(provider_go: str) -> dict[str, str]:
    return dict(re.findall(r'"(alicloud_[a-z0-9_]+)":\s*(resource[A-Za-z0-9_]+)\(\)', provider_go))


def find_func_file(repo: Path, ref: str, func: str) -> str:
    out = subprocess.run(["git", "-C", str(repo), "grep", "-l", f"func {func}()", ref, "--", "alicloud/"],
                         check=True, capture_output=True, text=True).stdout.split()
    if not out:
        raise KeyError(f"func {func} not found in {repo}@{ref}")
    return out[0].split(":", 1)[1]


def camel(name: str) -> str:
    head, *rest = name.split("_")
    return head + "".join(p[:1].upper() + p[1:] for p in rest)


def plural(name: str) -> str:
    if name.endswith("s"):
        return name
    if name.endswith("y") and not name.endswith(("ay", "ey", "oy", "uy")):
        return name[:-1] + "ies"
    return name + "s"


def pulumi_path(tf_path: str, fields: dict) -> str:
    """TF path (a.b) -> Pulumi input path (a[*].b, or a.b for a flattened block), with the bridge's names."""
    out, meta = [], fields
    for part in tf_path.split("."):
        info = (meta or {}).get(part, {})
        if "maxItemsOne" in info:
            name = camel(part) if info["maxItemsOne"] else plural(camel(part))
            out.append(name if info["maxItemsOne"] else name + "[*]")
        else:
            out.append(camel(part))
        meta = info.get("elem", {}).get("fields", {})
    path = ".".join(out)
    return path[:-3] if path.endswith("[*]") else path


def alicloud_types(alicloud: Path, alicloud_ref: str, terraform: Path, types: list[str]) -> tuple[dict, dict]:
    go_mod = git_show(alicloud, alicloud_ref, "provider/go.mod")
    m = re.search(r"github\.com/aliyun/terraform-provider-alicloud (v[0-9.]+)", go_mod)
    if not m:
        raise SystemExit("provider/go.mod names no terraform-provider-alicloud version")
    tf_ref = m.group(1)
    meta = json.loads(git_show(alicloud, alicloud_ref, "provider/cmd/pulumi-resource-alicloud/bridge-metadata.json"))
    by_token = {v["current"]: (k, v.get("fields", {})) for k, v in meta["auto-aliasing"]["resources"].items()}
    funcs = tf_resource_functions(git_show(terraform, tf_ref, "alicloud/provider.go"))
    out = {}
    for token in types:
        if token not in by_token:
            raise SystemExit(f"{token}: not a resource of pulumi-alicloud at {alicloud_ref}")
        tf_name, fields = by_token[token]
        func = funcs[tf_name]
        path = find_func_file(terraform, tf_ref, func)
        src = git_show(terraform, tf_ref, path)
        toks = tokenize(src)
        lo, hi = func_body(toks, func)
        smap = schema_map_at(toks, lo, hi)
        if smap is None:
            raise SystemExit(f"{tf_name}: no literal Schema map in {func} ({path})")
        tf_paths = sorted(set(force_new_fields(toks, *smap)) | set(customize_diff_force_new(src[:])))
        out[token] = {"terraform": tf_name, "source": f"{path} ({func})",
                      "replace": sorted(pulumi_path(p, fields) for p in tf_paths)}
    commit = git_commit(alicloud, alicloud_ref)
    return out, {"pulumi-alicloud": f"{alicloud_ref} ({commit})", "terraform-provider-alicloud": tf_ref}


# --- Kubernetes ---------------------------------------------------------------------------------------

class GoValues:
    """Evaluates the composite literals of pulumi-kubernetes' diff.go: string lists, `append`, `+`, the
    helper functions that prefix paths, and the group/version/kind maps."""

    def __init__(self, src: str):
        self.toks = tokenize(src)
        self.vars: dict[str, tuple[int, int]] = {}
        self.funcs: dict[str, tuple[list[str], tuple[int, int]]] = {}
        t = self.toks
        i = 0
        while i < len(t):
            if t[i].text == "var" and t[i + 1].kind == "ident" and t[i + 2].text == "=":
                j = i + 3
                end = self._expr_end(j)
                self.vars[t[i + 1].text] = (j, end)
                i = end
                continue
            if t[i].text == "func" and t[i + 1].kind == "ident" and t[i + 2].text == "(":
                close = matching(t, i + 2)
                params = [t[k].text for k in range(i + 3, close) if t[k].kind == "ident"
                          and t[k + 1].text in ("string", ",") and t[k].text not in ("string",)]
                body = func_body(t, t[i + 1].text)
                self.funcs[t[i + 1].text] = (params, body)
                i = body[1]
            i += 1

    def _expr_end(self, j: int) -> int:
        t = self.toks
        while j < len(t):
            if t[j].kind == "punct" and t[j].text in "{([":
                j = matching(t, j) + 1
                if j < len(t) and t[j].text in ("...",):
                    j += 1
                if j >= len(t) or t[j].text not in ("+", "{", "(", "["):
                    return j
                continue
            if t[j].text in ("var", "func", "type"):
                return j
            j += 1
        return j

    def eval(self, lo: int, hi: int, env: dict | None = None):
        env = env or {}
        t = self.toks
        parts = []  # `a + b`
        k, s = lo, lo
        while k < hi:
            if t[k].kind == "punct" and t[k].text in "{([":
                k = matching(t, k) + 1
                continue
            if t[k].text == "+":
                parts.append((s, k))
                s = k + 1
            k += 1
        parts.append((s, hi))
        if len(parts) > 1:
            return "".join(self.eval(a, b, env) for a, b in parts)
        if hi - lo == 1:
            tok = t[lo]
            if tok.kind == "str":
                return tok.text
            if tok.text in env:
                return env[tok.text]
            if tok.text in self.vars:
                return self.eval(*self.vars[tok.text])
            raise ValueError(f"unknown name {tok.text}")
        if t[lo].kind == "ident" and t[lo + 1].text == "{":  # a composite literal
            close = matching(t, lo + 1)
            elems = split_top(t, lo + 2, close)
            if elems and any(t[x].text == ":" for a, b in elems for x in range(a, b) if x == a + 1):
                return {self.eval(a, a + 1, env): self.eval(a + 2, b, env) for a, b in elems}
            return [self.eval(a, b, env) for a, b in elems]
        if t[lo].text == "append" and t[lo + 1].text == "(":
            close = matching(t, lo + 1)
            out: list[str] = []
            for a, b in split_top(t, lo + 2, close):
                out += self.eval(a, b - 1 if t[b - 1].text == "..." else b, env)
            return out
        if t[lo].kind == "ident" and t[lo + 1].text == "(" and t[lo].text in self.funcs:
            close = matching(t, lo + 1)
            args = [self.eval(a, b, env) for a, b in split_top(t, lo + 2, close)]
            return self.call(t[lo].text, args)
        raise ValueError(f"cannot evaluate Go expression at {t[lo].text!r}")

    def call(self, name: str, args: list) -> list[str]:
        params, (blo, bhi) = self.funcs[name]
        t = self.toks
        loop = next((k for k in range(blo, bhi) if t[k].text == "for"), None)
        if loop is not None:  # `for _, prefix := range prefixes { props = append(props, properties{...}...) }`
            loop_var = t[loop + 3].text
            lits = [k for k in range(loop, bhi) if t[k].text == "properties" and t[k + 1].text == "{"]
            out: list[str] = []
            for value in args:
                for k in lits:
                    out += self.eval(k, matching(t, k + 1) + 1, {loop_var: value})
            return out
        k = next(k for k in range(blo, bhi) if t[k].text == "return")
        return self.eval(k + 1, self._expr_end(k + 1), dict(zip(params, args, strict=False)))


def kubernetes_types(repo: Path, ref: str, types: list[str]) -> tuple[dict, dict]:
    diff_go = GoValues(git_show(repo, ref, "provider/pkg/provider/diff.go"))
    groups = diff_go.eval(*diff_go.vars["forceNew"])
    metadata = [p.lstrip(".") for p in diff_go.call("metadataForceNewProperties", [".metadata"])]
    helm = git_show(repo, ref, "provider/pkg/provider/helm_release.go")
    m = re.search(r"forceNewFields := \[\]string\{([^}]*)\}", helm)
    if not m:
        raise SystemExit("helm_release.go: no forceNewFields")
    release = [p.strip().strip('"').lstrip(".") for p in m.group(1).split(",") if p.strip()]
    fn_src = git_show(repo, ref, "provider/pkg/provider/diff.go")
    secret_rule = re.search(r'IsSecret\(obj\).*?properties\{([^}]*)\}', fn_src, re.S)
    config_rule = re.search(r'IsConfigMap\(obj\).*?properties\{([^}]*)\}', fn_src, re.S)

    def lits(match) -> list[str]:
        return [p.strip().strip('"').lstrip(".") for p in match.group(1).split(",") if p.strip()]

    out = {}
    for token in types:
        _, api, kind = token.split(":")
        if api == "helm.sh/v3" and kind == "Release":
            out[token] = {"source": "provider/pkg/provider/helm_release.go (forceNewFields)", "replace": sorted(release)}
            continue
        group, _, version = api.rpartition("/")
        group = {"core": "core", "rbac": "rbac.authorization.k8s.io", "storage": "storage.k8s.io",
                 "networking": "networking.k8s.io", "apiextensions": "apiextensions.k8s.io"}.get(group, group)
        entry: dict = {"source": "provider/pkg/provider/diff.go (forceNewProperties)"}
        paths = list(metadata)
        if kind == "Secret" and group == "core":
            entry["replace_unless_mutable"] = {"provider": "enableSecretMutable", "paths": sorted(lits(secret_rule))}
        elif kind == "ConfigMap" and group == "core":
            entry["replace_unless_mutable"] = {"provider": "enableConfigMapMutable", "paths": sorted(lits(config_rule))}
        paths += [p.lstrip(".") for p in groups.get(group, {}).get(version, {}).get(kind, [])]
        entry["replace"] = sorted(set(paths))
        out[token] = entry
    return out, {"pulumi-kubernetes": f"{ref} ({git_commit(repo, ref)})"}


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--alicloud", type=Path, required=True, help="pulumi-alicloud checkout")
    ap.add_argument("--alicloud-ref", default="HEAD")
    ap.add_argument("--terraform", type=Path, required=True, help="terraform-provider-alicloud checkout")
    ap.add_argument("--kubernetes", type=Path, required=True, help="pulumi-kubernetes checkout")
    ap.add_argument("--kubernetes-ref", default="HEAD")
    ap.add_argument("--type", action="append", dest="types", help="Pulumi type token (repeat)")
    ap.add_argument("--output", type=Path, default=DATA)
    args = ap.parse_args(argv)
    types = args.types or sorted(json.loads(DATA.read_text())["types"])
    ali, ali_src = alicloud_types(args.alicloud, args.alicloud_ref, args.terraform,
                                  [t for t in types if t.startswith("alicloud:")])
    kube, kube_src = kubernetes_types(args.kubernetes, args.kubernetes_ref,
                                      [t for t in types if t.startswith("kubernetes:")])
    data = {"generated_by": "scripts/replace_on_change.py", "sources": {**ali_src, **kube_src},
            "types": dict(sorted({**ali, **kube}.items()))}
    args.output.write_text(json.dumps(data, indent=1) + "\n")
    print(f"{args.output}: {len(data['types'])} types", file=sys.stderr)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

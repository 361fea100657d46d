"""Reports of the offline policy check: text, JSON, markdown and SARIF, for one stack or several.

A result is a `check.Report` (the pack ran) or a `ConfigFailure` (the stack's configuration was
refused, so nothing was checked). Both appear in every format: an invalid stack is a SARIF result
at the offending key's line and a markdown section, never a silent gap in a pipeline's report.
Markdown sections end with a blank line, so reports can be concatenated into one PR comment.
"""

from __future__ import annotations

import hashlib
import io
import json
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from milvus_zones.analysis.check import Report, Violation

FORMATS = ("text", "json", "markdown", "sarif")
CONFIG_RULE = "stack-config-invalid"
CONFIG_RULE_HELP = ("The stack's configuration breaks a rule of the config schema (Pulumi.yaml) or of the "
                    "deployment spec; nothing was planned or checked. Fix the key named in the message: "
                    "`milvus-zones plan STACK` shows every problem with its line.")


@dataclass(frozen=True)
class ConfigFailure:
    """A stack whose configuration was refused (exit 2 on its own): what and where."""

    stack: str
    path: Path | None
    problems: list[Any] = field(default_factory=list)  # stackconfig.Problem: key, message, line, column
    message: str = ""  # when there is no per-key problem (e.g. the program failed)

    @property
    def lines(self) -> list[str]:
        return [str(p) for p in self.problems] or [self.message]


Result = Report | ConfigFailure


def render(results: Result | list[Result], fmt: str) -> str:
    many = results if isinstance(results, list) else [results]
    if fmt == "text":
        return render_text(many)
    if fmt == "json":
        doc = to_json(many[0]) if len(many) == 1 else combined_json(many)
        return json.dumps(doc, indent=2) + "\n"
    if fmt == "markdown":
        return render_markdown(many)
    if fmt == "sarif":
        return json.dumps(to_sarif(many), indent=2) + "\n"
    raise ValueError(f"unknown format {fmt!r}; formats: {', '.join(FORMATS)}")


def exit_code(results: list[Result]) -> int:
    """2 when any stack's input was refused, else 1 when any mandatory violation, else 0."""
    if any(isinstance(r, ConfigFailure) for r in results):
        return 2
    return 1 if any(isinstance(r, Report) and r.mandatory_violations for r in results) else 0


# -- text ------------------------------------------------------------------------------------------

def _resource_label(v: Violation) -> str:
    if not v.urn:
        return "(stack)"
    return f"{v.resource_name} ({v.resource_type})"


def _verdict(report: Report) -> str:
    m, a = len(report.mandatory_violations), len(report.advisory_violations)
    return f"{m} mandatory, {a} advisory violation(s)"


def _skipped(report: Report) -> list[tuple[str, str]]:
    """Stack policies that did not apply, with the reason (resource-level ones are per resource: noise)."""
    seen: dict[str, str] = {}
    for na in report.not_applicable:
        if not na.urn and na.policy not in seen:
            seen[na.policy] = na.reason
    return sorted(seen.items())


def render_text(results: list[Result]) -> str:
    from rich.console import Console
    from rich.table import Table

    out = io.StringIO()
    console = Console(file=out, width=140, force_terminal=False, color_system=None, highlight=False)
    for i, result in enumerate(results):
        if i:
            console.print()
        if isinstance(result, ConfigFailure):
            console.print(f"Stack {result.stack}: INVALID configuration, not checked ({result.path or 'no file'})")
            for line in result.lines:
                console.print(f"  {line}")
            continue
        report = result
        console.print(f"Policy pack {report.pack_name} {report.pack_version} on stack {report.stack} "
                      f"(project {report.project}): {len(report.policies)} policies, {report.resource_count} resources")
        if report.violations:
            table = Table(show_lines=True, expand=False)
            table.add_column("Level", no_wrap=True)
            table.add_column("Policy", no_wrap=True)
            table.add_column("Resource", max_width=36, overflow="fold")
            table.add_column("What to change", overflow="fold")
            for v in report.violations:
                table.add_row(v.enforcement_level, v.policy, _resource_label(v), v.message)
            console.print(table)
        skipped = _skipped(report)
        if skipped:
            console.print("Not applicable: " + "; ".join(f"{name} ({reason})" for name, reason in skipped))
        status = "FAILED" if report.mandatory_violations else "PASSED"
        console.print(f"{status}: {_verdict(report)}")
    if len(results) > 1:
        console.print()
        console.print(_summary_line(results))
    return out.getvalue()


def _summary_line(results: list[Result]) -> str:
    invalid = sum(isinstance(r, ConfigFailure) for r in results)
    failed = sum(1 for r in results if isinstance(r, Report) and r.mandatory_violations)
    passed = len(results) - invalid - failed
    return f"{len(results)} stacks: {passed} passed, {failed} failed, {invalid} with an invalid configuration"


# -- JSON ------------------------------------------------------------------------------------------

def to_json(result: Result) -> dict[str, Any]:
    if isinstance(result, ConfigFailure):
        return {
            "stack": result.stack,
            "valid": False,
            "passed": False,
            "file": str(result.path) if result.path else None,
            "problems": [{"key": getattr(p, "key", ""), "message": getattr(p, "message", str(p)),
                          "line": getattr(p, "line", None), "column": getattr(p, "column", None)}
                         for p in result.problems] or [{"key": "", "message": result.message, "line": None,
                                                        "column": None}],
        }
    report = result
    return {
        "project": report.project,
        "stack": report.stack,
        "valid": True,
        "policyPack": {"name": report.pack_name, "version": report.pack_version},
        "passed": not report.mandatory_violations,
        "summary": {
            "mandatory": len(report.mandatory_violations),
            "advisory": len(report.advisory_violations),
            "policies": len(report.policies),
            "resources": report.resource_count,
        },
        "violations": [
            {"policy": v.policy, "enforcementLevel": v.enforcement_level, "message": v.message,
             "description": v.description, "urn": v.urn, "resourceType": v.resource_type,
             "resourceName": v.resource_name}
            for v in report.violations
        ],
        "notApplicable": [
            {"policy": na.policy, "reason": na.reason, "urn": na.urn} for na in report.not_applicable if not na.urn
        ],
        "policies": [
            {"name": p.name, "description": p.description, "enforcementLevel": p.enforcement_level,
             "type": p.kind, "remediation": p.remediation, "tags": list(p.tags), "config": dict(p.config)}
            for p in report.policies
        ],
    }


def combined_json(results: list[Result]) -> dict[str, Any]:
    return {"passed": exit_code(results) == 0, "summary": _summary_line(results),
            "stacks": [to_json(r) for r in results]}


# -- markdown --------------------------------------------------------------------------------------

def _md(text: str) -> str:
    """Table-cell safe: GitHub would read `<mode>` as an HTML tag and drop it."""
    text = text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;").replace("|", "\\|")
    return text.replace("\n", "<br>")


def markdown_section(result: Result) -> str:
    """One stack's section: a level-3 heading, ending with a blank line (concatenable)."""
    if isinstance(result, ConfigFailure):
        lines = [f"### :no_entry: Policy check `{result.stack}`: invalid configuration, not checked", ""]
        where = f"`{_artifact_uri(result.path)}`" if result.path else "the stack"
        lines += [f"The configuration in {where} was refused; nothing was planned or checked.", ""]
        lines += ["| Line | Setting | Problem |", "|---|---|---|"]
        for p in result.problems:
            lines.append(f"| {getattr(p, 'line', None) or ''} | `{_md(getattr(p, 'key', '') or '(file)')}` | "
                         f"{_md(getattr(p, 'message', str(p)))} |")
        if not result.problems:
            lines.append(f"|  | (stack) | {_md(result.message)} |")
        return "\n".join(lines) + "\n\n"
    report = result
    icon = ":x:" if report.mandatory_violations else ":white_check_mark:"
    lines = [f"### {icon} Policy check `{report.stack}`: {_verdict(report)}", "",
             f"Policy pack **{report.pack_name} {report.pack_version}**, project `{report.project}`, "
             f"{len(report.policies)} policies on {report.resource_count} resources.", ""]
    if report.violations:
        lines += ["| Level | Policy | Resource | What to change |", "|---|---|---|---|"]
        for v in report.violations:
            level = "**mandatory**" if v.enforcement_level == "mandatory" else v.enforcement_level
            lines.append(f"| {level} | `{v.policy}` | {_md(_resource_label(v))} | {_md(v.message)} |")
        lines.append("")
    skipped = _skipped(report)
    if skipped:
        lines += [f"<details><summary>{len(skipped)} policies not applicable</summary>", ""]
        lines += [f"- `{name}`: {_md(reason)}" for name, reason in skipped]
        lines += ["", "</details>", ""]
    return "\n".join(lines).rstrip("\n") + "\n\n"


def render_markdown(results: list[Result]) -> str:
    body = "".join(markdown_section(r) for r in results)
    if len(results) == 1:
        return body
    icon = ":white_check_mark:" if exit_code(results) == 0 else ":x:"
    return f"## {icon} milvus-zones policy check\n\n{_summary_line(results)}.\n\n{body}"


# -- SARIF -----------------------------------------------------------------------------------------

def _sarif_level(level: str) -> str:
    return {"mandatory": "error", "advisory": "warning", "remediate": "error"}.get(level, "none")


def _artifact_uri(source: Path | str) -> str:
    """Relative to the working directory (the repository root in a pipeline) when inside it."""
    if isinstance(source, str) and source.startswith("file://"):
        from urllib.parse import unquote, urlparse

        source = Path(unquote(urlparse(source).path))
    path = Path(source).resolve()
    cwd = Path.cwd().resolve()
    if path.is_relative_to(cwd):
        return Path(os.path.relpath(path, cwd)).as_posix()
    return path.as_uri()


def _physical(uri_source: Path | str, line: int | None, column: int | None = None) -> dict[str, Any]:
    loc: dict[str, Any] = {"artifactLocation": {"uri": _artifact_uri(uri_source)}}
    if line:
        region: dict[str, Any] = {"startLine": line}
        if column:
            region["startColumn"] = column
        loc["region"] = region
    return loc


def _in_program(uri: str, program_dir: Path | None) -> bool:
    if program_dir is None or not uri.startswith("file://"):
        return False
    from urllib.parse import unquote, urlparse

    path = Path(unquote(urlparse(uri).path)).resolve()
    return path.is_relative_to(program_dir.resolve()) and ".venv" not in path.parts and "site-packages" not in path.parts


def _violation_location(report: Report, v: Violation) -> tuple[dict[str, Any] | None, list[dict[str, Any]]]:
    """Primary location: the program line that registered the resource (when inside the program),
    else the stack file's `mode` key (it selects what the policies require). The stack file is a
    related location either way."""
    stack_loc = None
    sf = report.stack_file
    if report.source is not None:
        pos = sf.locate(f"{report.project}:mode") if sf is not None else None
        line, col = pos if pos else ((sf.config_line, 1) if sf is not None else (None, None))
        stack_loc = _physical(report.source, line, col)
    source = report.resource_sources.get(v.urn) if v.urn else None
    if source and _in_program(source[0], report.program_dir):
        related = [{"id": 1, "physicalLocation": stack_loc, "message": {"text": f"stack {report.stack}"}}] \
            if stack_loc else []
        return _physical(source[0], source[1]), related
    return stack_loc, []


def _fingerprint(*parts: str) -> str:
    return hashlib.sha256("\x1f".join(parts).encode()).hexdigest()[:32]


def to_sarif(results: list[Result]) -> dict[str, Any]:
    reports = [r for r in results if isinstance(r, Report)]
    rules: list[dict[str, Any]] = []
    index: dict[str, int] = {}
    for report in reports:
        for p in report.policies:
            if p.name in index:
                continue
            index[p.name] = len(rules)
            help_text = p.remediation or p.description
            rules.append({
                "id": p.name,
                "name": "".join(w.capitalize() for w in p.name.split("-")),
                "shortDescription": {"text": p.description},
                "fullDescription": {"text": p.description},
                "help": {"text": help_text, "markdown": f"**{p.name}**: {p.description}\n\n{help_text}"},
                "defaultConfiguration": {"level": _sarif_level(p.enforcement_level)},
                "properties": {"tags": list(p.tags), "enforcementLevel": p.enforcement_level, "policyType": p.kind},
            })
    if any(isinstance(r, ConfigFailure) for r in results) or not rules:
        index[CONFIG_RULE] = len(rules)
        rules.append({
            "id": CONFIG_RULE, "name": "StackConfigInvalid",
            "shortDescription": {"text": "The stack's configuration is invalid: nothing was checked."},
            "fullDescription": {"text": CONFIG_RULE_HELP},
            "help": {"text": CONFIG_RULE_HELP, "markdown": CONFIG_RULE_HELP},
            "defaultConfiguration": {"level": "error"},
            "properties": {"tags": ["configuration"]},
        })
    out: list[dict[str, Any]] = []
    for result in results:
        if isinstance(result, ConfigFailure):
            problems = result.problems or [None]
            for p in problems:
                key = getattr(p, "key", "") if p is not None else ""
                message = getattr(p, "message", "") if p is not None else result.message
                loc: dict[str, Any] = {"logicalLocations": [{"name": key or result.stack, "kind": "member"}]}
                if result.path is not None:
                    loc["physicalLocation"] = _physical(result.path, getattr(p, "line", None) or 1,
                                                        getattr(p, "column", None))
                out.append({
                    "ruleId": CONFIG_RULE, "ruleIndex": index[CONFIG_RULE], "level": "error",
                    "message": {"text": f"stack {result.stack}: {key + ': ' if key else ''}{message}"},
                    "locations": [loc],
                    "partialFingerprints": {"milvusZones/v1": _fingerprint(result.stack, key, message)},
                    "properties": {"stack": result.stack},
                })
            continue
        report = result
        for v in report.violations:
            location: dict[str, Any] = {
                "logicalLocations": [{
                    "fullyQualifiedName": v.urn or report.stack_urn or f"{report.project}/{report.stack}",
                    "name": v.resource_name or report.stack,
                    "kind": "resource" if v.urn else "module",
                }],
            }
            physical, related = _violation_location(report, v)
            if physical is not None:
                location["physicalLocation"] = physical
            item: dict[str, Any] = {
                "ruleId": v.policy,
                "level": _sarif_level(v.enforcement_level),
                "message": {"text": f"stack {report.stack}: {v.message}"},
                "locations": [location],
                "partialFingerprints": {"milvusZones/v1": _fingerprint(report.stack, v.policy, v.urn)},
                "properties": {"stack": report.stack, "urn": v.urn},
            }
            if related:
                item["relatedLocations"] = related
            if v.policy in index:
                item["ruleIndex"] = index[v.policy]
            out.append(item)
    first = reports[0] if reports else None
    driver_name = first.pack_name if first else "milvus-zones-policies"
    from milvus_zones_policies import PACK_NAME, PACK_VERSION

    return {
        "$schema": "https://json.schemastore.org/sarif-2.1.0.json",
        "version": "2.1.0",
        "runs": [{
            "tool": {"driver": {"name": driver_name if first else PACK_NAME,
                                "version": first.pack_version if first else PACK_VERSION,
                                "informationUri": "https://www.pulumi.com/docs/iac/using-pulumi/crossguard/",
                                "rules": rules}},
            "automationDetails": {"id": "milvus-zones/policy/"},
            "results": out,
            "properties": {"stacks": [r.stack for r in results]},
        }],
    }

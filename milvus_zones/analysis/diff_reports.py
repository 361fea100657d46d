"""`milvus-zones diff` reports: text, markdown and JSON, for one stack or several."""

from __future__ import annotations

import json
from typing import Any

from milvus_zones.analysis.diff import ACTIONS, DiffEntry, StackDiff, exit_code, replace_rules

_SIGN = {"create": "+", "update": "~", "replace": "+-", "delete": "-"}


def _value(v: Any) -> str:
    if v is None:
        return "(unset)"
    text = v if isinstance(v, str) and "\n" not in v else json.dumps(v, sort_keys=True)
    return text if len(text) <= 120 else text[:117] + "..."


def _summary(d: StackDiff) -> str:
    c = d.counts()
    return ", ".join(f"{c[a]} to {a}" for a in ACTIONS)


def _entry_flags(e: DiffEntry) -> str:
    tags = [t for t, on in (("stateful", e.stateful), ("protected", e.protected)) if on]
    return f" [{', '.join(tags)}]" if tags else ""


def _verdict(d: StackDiff) -> list[str]:
    lines = []
    if d.upgrade:
        lines.append("Refused by the upgrade rules (milvus_zones/planning/upgrade.py):")
        lines += [f"  milvus-zones:{k}: {m}" for k, m in d.upgrade]
    lost = d.data_loss
    if lost:
        lines.append(f"DATA LOSS: {len(lost)} stateful or protected resource(s) would be replaced or deleted:")
        lines += [f"  {e.action} {e.urn}" for e in lost]
    if d.backup_reason:
        lines.append(f"Before applying ({d.backup_reason}), take a backup and wait for it:")
        lines += [f"  {c}" for c in d.backup]
    lines += [f"note: {n}" for n in d.notes]
    if d.unknown_types:
        lines.append("note: no replace-on-change data for " + ", ".join(d.unknown_types) + " (shown as updates)")
    return lines


def render_text(d: StackDiff) -> str:
    lines = [f"{d.stack}: diff against {d.base}: {_summary(d)}"]
    for e in d.entries:
        lines.append(f"{_SIGN[e.action]:>2} {e.action:<7} {e.urn}{_entry_flags(e)}")
        if e.action == "replace":
            lines.append(f"           replaced because of: {', '.join(e.reasons)}")
        for c in e.changes:
            mark = "  (forces replacement)" if c.forces_replacement else ""
            lines.append(f"           {c.path}: {_value(c.old)} -> {_value(c.new)}{mark}")
    if not d.entries:
        lines.append("   no changes")
    lines += _verdict(d)
    return "\n".join(lines) + "\n"


def _md_cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def render_markdown(d: StackDiff) -> str:
    lines = [f"### `{d.stack}`: diff against {d.base}", "", _summary(d), ""]
    if d.entries:
        lines += ["| action | resource | type | changed inputs |", "|---|---|---|---|"]
        for e in d.entries:
            changes = "<br>".join(
                f"`{_md_cell(c.path)}`: `{_md_cell(_value(c.old))}` -> `{_md_cell(_value(c.new))}`"
                + (" (forces replacement)" if c.forces_replacement else "") for c in e.changes)
            if e.action == "replace" and "provider" in e.reasons:
                changes = (changes + "<br>" if changes else "") + "provider changed"
            lines.append(f"| **{e.action}**{_entry_flags(e)} | `{_md_cell(e.name)}` | `{e.type}` | {changes} |")
        lines.append("")
    else:
        lines += ["No changes.", ""]
    if d.upgrade:
        lines += ["**Refused by the upgrade rules** (`milvus_zones/planning/upgrade.py`):", ""]
        lines += [f"- `milvus-zones:{k}`: {_md_cell(m)}" for k, m in d.upgrade] + [""]
    if d.data_loss:
        lines += [f"**Data loss**: {len(d.data_loss)} stateful or protected resource(s) would be replaced or deleted:", ""]
        lines += [f"- {e.action} `{e.urn}`" for e in d.data_loss] + [""]
    if d.backup_reason:
        lines += [f"**Before applying** ({d.backup_reason}), take a backup and wait for it:", ""]
        lines += ["```bash", *d.backup, "```", ""] if d.backup else []
    notes = d.notes + ([f"no replace-on-change data for {', '.join(d.unknown_types)} (shown as updates)"]
                       if d.unknown_types else [])
    lines += [f"> note: {n}" for n in notes] + ([""] if notes else [])
    return "\n".join(lines) + "\n"


def as_json(d: StackDiff) -> dict[str, Any]:
    return {
        "stack": d.stack, "base": d.base, "summary": d.counts(),
        "steps": [{"op": e.action, "urn": e.urn, "type": e.type, "stateful": e.stateful, "protected": e.protected,
                   "dataLoss": e.data_loss, "replaceReasons": list(e.reasons),
                   "diffs": [{"path": c.path, "old": c.old, "new": c.new, "forcesReplacement": c.forces_replacement}
                             for c in e.changes]} for e in d.entries],
        "upgradeRefusals": [{"key": f"milvus-zones:{k}", "message": m} for k, m in d.upgrade],
        "dataLoss": [e.urn for e in d.data_loss],
        "backupFirst": {"reason": d.backup_reason, "commands": d.backup} if d.backup_reason else None,
        "notes": d.notes, "typesWithoutReplaceData": d.unknown_types,
    }


def render(diffs: list[StackDiff], fmt: str) -> str:
    if fmt == "json":
        body: dict[str, Any] = ({"stacks": {d.stack: as_json(d) for d in diffs}} if len(diffs) != 1
                                else as_json(diffs[0]))
        body["exitCode"] = exit_code(diffs)
        body["replaceDataSources"] = replace_rules()["sources"]
        return json.dumps(body, indent=2, default=str) + "\n"
    one = render_markdown if fmt == "markdown" else render_text
    return "".join(one(d).rstrip("\n") + "\n\n" for d in diffs) if len(diffs) > 1 else one(diffs[0])

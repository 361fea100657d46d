"""Renderers of the zone-failure report (text, markdown, JSON); the model is
milvus_zones_policies.model.recovery, the report is built by milvus_zones.analysis.failures."""

from __future__ import annotations

import json
from dataclasses import asdict
from typing import Any

from milvus_zones_policies.model.recovery import TARGETS, Path, Report, fmt_s


def to_json(report: Report) -> dict[str, Any]:
    def path(p: Path) -> dict:
        return {"seconds": p.seconds, "blocked": p.blocked, "steps": [asdict(s) for s in p.steps]}

    return {
        "stack": report.stack, "mode": report.mode, "zones": report.zones, "zoneRecovery": report.zone_recovery,
        "notes": report.notes, "worst": report.worst(), "missedTargets": report.verdicts(),
        "parameters": {k: asdict(v) for k, v in sorted(report.params.items())},
        "scenarios": [{
            "zone": s.zone, "holds": s.holds, "etcd": s.etcd, "wal": s.wal, "data": s.data,
            "componentsGone": s.components_gone, "servesAfter": s.serves_after,
            "reads": path(s.reads), "writes": path(s.writes), "readsBoundedConsistency": path(s.reads_bounded),
            "rpoSeconds": s.rpo_s, "rpo": s.rpo_reason, "notes": s.notes,
        } for s in report.scenarios],
        "contributions": [{"setting": c.setting, "where": c.where, "without": c.without, "withAll": c.with_all}
                          for c in report.contributions],
    }


def _yes(v: Any) -> str:
    return {True: "yes", False: "NO", None: "n/a"}[v]


def _path_lines(label: str, p: Path, indent: str) -> list[str]:
    head = f"{indent}{label}: {fmt_s(p.seconds)}" + (f" — {p.blocked}" if p.blocked else "")
    return [head] + [f"{indent}  - {s.what}: {fmt_s(s.seconds)}" for s in p.steps]


def render_text(report: Report, markdown: bool = False) -> str:
    h1, h2, b = ("# ", "## ", "- ") if markdown else ("", "", "  ")
    out = [f"{h1}Zone failures: stack {report.stack} (mode {report.mode or 'undeclared'})", ""]
    out += [f"{b}{n}" for n in report.notes]
    scopes = sorted({s.scope for s in report.scenarios}, reverse=True)
    for scope in scopes:
        w = report.worst(scope)
        out.append(f"{b}worst {scope} loss ({', '.join(s.zone for s in report.scenarios if s.scope == scope)}): "
                   f"RPO {fmt_s(w['rpo_s'])}, reads back in {fmt_s(w['rto_reads_s'])}, writes back in "
                   f"{fmt_s(w['rto_writes_s'])}")
    target = TARGETS.get(report.mode or "")
    if target and report.kind != "managed":
        missed = report.verdicts()
        out.append(f"{b}targets ({report.mode}: reads {fmt_s(target[0])}, writes {fmt_s(target[1])}, RPO 0): "
                   + ("met" if not missed else "MISSED: " + "; ".join(missed)))
    for s in report.scenarios:
        out += ["", f"{h2}Lose {s.zone}" + (f" (holds {', '.join(s.holds)})" if s.holds else " (holds no nodes)")]
        out.append(f"{b}etcd quorum kept: {_yes(s.etcd.get('quorum_kept'))} ({s.etcd.get('note')})")
        if s.wal:
            out.append(f"{b}WAL ({s.wal.get('kind')}) quorum kept: {_yes(s.wal.get('quorum_kept'))}, durable: "
                       f"{_yes(s.wal.get('durable'))} ({s.wal.get('note')})")
        out.append(f"{b}data lost: {'possible' if s.data['lost'] else 'no'} ({s.data['note']})")
        out.append(f"{b}components gone: {', '.join(s.components_gone) or 'none'}")
        out.append(f"{b}afterwards: {s.serves_after}")
        out.append(f"{b}RPO: {fmt_s(s.rpo_s)} ({s.rpo_reason})")
        out += [f"{b}note: {n}" for n in s.notes]
        ind = b if markdown else "  "
        out += _path_lines("reads (Eventually consistency)", s.reads, ind)
        out += _path_lines("writes", s.writes, ind)
        if s.reads_bounded is not s.reads:
            out.append(f"{ind}reads at Bounded/Strong consistency: {fmt_s(s.reads_bounded.seconds)} "
                       "(they wait for the WAL's time ticks, so they come back with writes)")
    used = [c for c in report.contributions if c.without != c.with_all]
    if used:
        out += ["", f"{h2}What each setting contributes (worst case without it -> with everything)", ""]
        if markdown:
            out += ["| setting | set in | reads | writes |", "|---|---|---|---|"]
        for c in used:
            cells = [f"{fmt_s(c.without[k])} -> {fmt_s(c.with_all[k])}" for k in ("rto_reads_s", "rto_writes_s")]
            out.append(f"| {c.setting} | {c.where} | {cells[0]} | {cells[1]} |" if markdown else
                       f"  {c.setting} [{c.where}]: reads {cells[0]}, writes {cells[1]}")
    out += ["", f"{h2}Parameters", ""]
    if markdown:
        out += ["| parameter | value | source |", "|---|---|---|"]
        out += [f"| {p.key} | {p.value:g} {p.unit} | {p.source} |" for p in sorted(report.params.values(),
                                                                            key=lambda p: p.key)]
    else:
        out += [f"  {p.key} = {p.value:g} {p.unit}  [{p.source}]" for p in sorted(report.params.values(),
                                                                            key=lambda p: p.key)]
    return "\n".join(out) + "\n"


def render(report: Report, fmt: str) -> str:
    if fmt == "json":
        return json.dumps(to_json(report), indent=2, sort_keys=True) + "\n"
    return render_text(report, markdown=fmt == "markdown")

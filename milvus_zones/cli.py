"""`milvus-zones`: the offline plan and the offline policy check of a stack."""

from __future__ import annotations

import gc
import json
import os
import sys
from collections.abc import Mapping
from enum import StrEnum
from pathlib import Path
from typing import Annotated, Any

import typer

from milvus_zones.engine.offline import ProgramError
from milvus_zones.engine.stacks import find_project, resolve_stack

app = typer.Typer(
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    help="Milvus across availability zones on Alibaba Cloud: offline plan and policy check of a stack.",
)

StackArg = Annotated[
    str, typer.Argument(help="Stack name (stacks/Pulumi.<STACK>.yaml) or path to a stack config file.")
]
ProgramOpt = Annotated[
    Path | None,
    typer.Option("--program", help="Pulumi Python program directory (default: the Pulumi project of the current directory).",
                 exists=True, file_okay=False, resolve_path=True),
]
OutputOpt = Annotated[Path | None, typer.Option("--output", "-o", help="Write the report to this file.")]
ExternalOpt = Annotated[
    Path | None,
    typer.Option("--external", help="externalResources facts (JSON: {vswitches, nodePools}) about what your own "
                                    "program reads with `.get`; merged over what this project's plan gives."),
]


class PlanFormat(StrEnum):
    text = "text"
    json = "json"
    markdown = "markdown"
    mermaid = "mermaid"


class CheckFormat(StrEnum):
    text = "text"
    json = "json"
    markdown = "markdown"
    sarif = "sarif"


def _fail(message: str) -> typer.Exit:
    typer.echo(f"error: {message}", err=True)
    return typer.Exit(2)


def _project(program: Path | None) -> Path:
    try:
        return program or find_project()
    except ProgramError as e:
        raise _fail(str(e)) from None


def _error_text(e: ProgramError) -> str:
    if e.problems:
        where = f" in {e.path}" if e.path else ""
        return f"invalid stack configuration{where}:\n" + "\n".join(str(p) for p in e.problems)
    return str(e)


def _check_output(output: Path | None) -> None:
    """Before any work: a report that cannot be written must not cost a run, nor look like exit 1."""
    if output is None:
        return
    parent = output.parent if str(output.parent) else Path(".")
    if output.is_dir():
        raise _fail(f"--output {output} is a directory; give a file path")
    if not parent.is_dir():
        raise _fail(f"--output {output}: the directory {parent} does not exist")
    if not os.access(parent, os.W_OK) or (output.exists() and not os.access(output, os.W_OK)):
        raise _fail(f"--output {output}: not writable")


def _stack_names(stacks: list[str] | None, all_: bool, program: Path) -> list[str]:
    from milvus_zones.engine.stacks import available_stacks

    names = list(stacks or [])
    if all_:
        try:
            names += [s for s in available_stacks(program) if s not in names]
        except ProgramError as e:
            raise _fail(str(e)) from None
    if not names:
        raise _fail("give one or more stacks (names in stacks/ or paths to stack files), or --all")
    return names


class _Progress:
    """Progress on stderr while stacks run (each takes a second or more): a live bar on a terminal,
    nothing off a terminal."""

    def __init__(self, verb: str, names: list[str]):
        from rich.console import Console

        self.verb, self.names = verb, names
        self.console = Console(stderr=True)
        self.bar = None
        if self.console.is_terminal:
            from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

            self.bar = Progress(TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(),
                                TimeElapsedColumn(), console=self.console, transient=True)

    def __iter__(self):
        if self.bar is None:  # off a terminal (pipeline logs, pipes): no progress noise
            yield from self.names
            return
        with self.bar:
            task = self.bar.add_task(self.verb, total=len(self.names))
            for name in self.names:
                self.bar.update(task, description=f"{self.verb} {name}")
                yield name
                self.bar.advance(task)


def _load(stack: str, program: Path):
    """The stack's config and its recorded graph. For this project's programs the spec is checked
    first, so each broken rule comes with the line of its key."""
    from milvus_zones.engine.offline import config_for_program, read_project, run_program
    from milvus_zones.planning.stackconfig import NAMESPACE

    stack_cfg = resolve_stack(stack, program)
    project = read_project(program)
    if project.get("name") == NAMESPACE and stack_cfg.file is not None:
        problems = spec_problems(stack_cfg.file, config_for_program(project, stack_cfg)[0])
        if problems:
            raise ProgramError("invalid stack configuration", problems=problems, path=stack_cfg.path)
    graph = run_program(program, stack_cfg)
    _imports_done()
    return stack_cfg, graph


def _imports_done() -> None:
    """After the first program run every SDK module is imported: move those objects out of the
    collector's view (gc.freeze) and turn collection back on for the stacks that follow."""
    if not gc.isenabled() and os.environ.get("MILVUS_ZONES_GC") != "default":
        gc.freeze()
        gc.enable()


def spec_problems(stack_file, config: Mapping[str, Any], namespace: str = "milvus-zones") -> list:
    """The spec's broken rules for a stack file's config (as the language host would pass it), each
    at the line of its key, or of the nearest enclosing key, or of `config:` when the key is unset."""
    from milvus_zones.engine.stackfile import Problem
    from milvus_zones.planning.spec import SpecError
    from milvus_zones.planning.stackconfig import spec_from_config

    try:
        spec_from_config(config, namespace)
    except SpecError as e:
        out = []
        for key, message in e.problems:
            full = f"{namespace}:{key}"
            pos = stack_file.locate(full)
            line, col = pos if pos else (stack_file.config_line, 1)
            out.append(Problem(full, message, line, col))
        return out
    return []




def _run(stack: str, program: Path):
    """One stack; bad input ends the command with exit code 2."""
    try:
        return _load(stack, program)
    except ProgramError as e:
        raise _fail(_error_text(e)) from None


def _emit(text: str, output: Path | None) -> None:
    if output is None:
        sys.stdout.write(text if text.endswith("\n") else text + "\n")
    else:
        output.write_text(text)


def _many(names: list[str], verb: str, program: Path, each):
    """Run `each(stack_cfg, graph)` per stack in this process (the SDK is imported once); stacks with
    bad input are reported on stderr and skipped. Returns (outputs by stack, any bad input)."""
    outputs: dict[str, object] = {}
    bad = False
    for name in _Progress(verb, names):
        try:
            stack_cfg, graph = _load(name, program)
        except ProgramError as e:
            typer.echo(f"error: {name}: {_error_text(e)}", err=True)
            bad = True
            continue
        outputs[name] = each(stack_cfg, graph)
    return outputs, bad


StacksArg = Annotated[
    list[str] | None,
    typer.Argument(help="Stack names (stacks/Pulumi.<STACK>.yaml) or paths to stack config files.", show_default=False),
]
AllOpt = Annotated[bool, typer.Option("--all", help="Every stack in the project's stack config directory.")]


def _join(texts: dict[str, str], fmt: str) -> str:
    if len(texts) == 1:
        return next(iter(texts.values()))
    if fmt == "json":
        return json.dumps({"stacks": {k: json.loads(v) for k, v in texts.items()}}, indent=2) + "\n"
    return "".join(t.rstrip("\n") + "\n\n" for t in texts.values())


@app.command()
def plan(
    stacks: StacksArg = None,
    all_: AllOpt = False,
    format: Annotated[PlanFormat, typer.Option("--format", "-f", help="Output format.")] = PlanFormat.text,
    program: ProgramOpt = None,
    output: OutputOpt = None,
) -> None:
    """Run each stack's Pulumi program under the mock engine and show its resource graph by zone."""
    _check_output(output)
    program = _project(program)
    names = _stack_names(stacks, all_, program)
    from milvus_zones.analysis import planview

    texts, bad = _many(names, "planning", program, lambda cfg, graph: planview.render(graph, format.value))
    if texts:
        _emit(_join(texts, format.value), output)
    raise typer.Exit(2 if bad else 0)


@app.command()
def check(
    stacks: StacksArg = None,
    all_: AllOpt = False,
    format: Annotated[CheckFormat, typer.Option("--format", "-f", help="Output format.")] = CheckFormat.text,
    program: ProgramOpt = None,
    policy_config: Annotated[
        Path | None,
        typer.Option("--policy-config", help="Policy pack config (JSON), as `pulumi preview --policy-pack-config`."),
    ] = None,
    base: Annotated[
        Path | None,
        typer.Option("--base", help="The deployed stack file: refuse changes a running cluster cannot take in one step.",
                     exists=True, dir_okay=False),
    ] = None,
    external: ExternalOpt = None,
    output: OutputOpt = None,
) -> None:
    """Run the policy pack offline on each stack's resource graph; one combined report.
    Exit 0 clean, 1 mandatory violation, 2 bad input (an invalid stack is in the report too)."""
    _check_output(output)
    program = _project(program)
    names = _stack_names(stacks, all_, program)
    from milvus_zones.analysis import check as checker
    from milvus_zones.analysis import check_reports

    try:  # a broken pack config is the run's bad input, found before any stack runs
        checker.resolve_config(checker.load_policy_config(policy_config), where=f"policy config {policy_config}")
        given = _given_external(external)
    except ProgramError as e:
        raise _fail(str(e)) from None
    if base is not None and len(names) != 1:
        raise _fail("--base compares one stack with its deployed configuration; give exactly one stack")
    results: list = []
    for name in _Progress("checking", names):
        try:
            stack_cfg, graph = _load(name, program)
            if base is not None:
                _check_upgrade(base, stack_cfg, program)
            facts = checker.merged(_external_resources(stack_cfg, program), given)
        except ProgramError as e:
            typer.echo(f"error: {name}: {_error_text(e)}", err=True)
            results.append(check_reports.ConfigFailure(_stack_label(name), e.path or _stack_path(name, program),
                                                       e.problems, "" if e.problems else str(e)))
            continue
        # The pack never sees the stack's reads (as under `pulumi preview`): their facts go in as pack config.
        results.append(checker.check_graph(graph, policy_config, source=stack_cfg.path, config=stack_cfg.values,
                                           stack_file=stack_cfg.file, program_dir=program, external_resources=facts))
    _emit(check_reports.render(results, format.value), output)
    raise typer.Exit(check_reports.exit_code(results))


def _given_external(path: Path | None) -> dict[str, Any]:
    """The externalResources facts of --external (JSON), validated; empty without the option."""
    import json

    from milvus_zones_policies.model import external

    if path is None:
        return {}
    try:
        facts = json.loads(path.read_text())
    except OSError as e:
        raise ProgramError(f"--external {path}: cannot read it ({e.strerror})") from None
    except ValueError as e:
        raise ProgramError(f"--external {path}: not JSON ({e})") from None
    bad = external.problems(facts)
    if bad:
        raise ProgramError(f"--external {path}: " + "; ".join(bad))
    return facts


def _external_resources(stack_cfg, program: Path) -> dict[str, Any]:
    """The pack config's externalResources for a stack of this project (the facts about what it reads
    with `.get`, from its plan); nothing for other programs, whose authors write their own."""
    from milvus_zones.analysis.policy_facts import facts_of_config
    from milvus_zones.engine.offline import config_for_program, read_project
    from milvus_zones.planning.spec import SpecError
    from milvus_zones.planning.stackconfig import NAMESPACE

    project = read_project(program)
    if project.get("name") != NAMESPACE:
        return {}
    try:
        return facts_of_config(config_for_program(project, stack_cfg)[0])
    except SpecError:
        raise ProgramError("invalid stack configuration", path=stack_cfg.path,
                           problems=spec_problems(stack_cfg.file, config_for_program(project, stack_cfg)[0])
                           if stack_cfg.file is not None else []) from None


@app.command("policy-config")
def policy_config(
    stack: StackArg,
    program: ProgramOpt = None,
    policy_config: Annotated[
        Path | None,
        typer.Option("--policy-config", help="A pack config (JSON) of your own to merge in; its entries win."),
    ] = None,
    external: ExternalOpt = None,
    output: OutputOpt = None,
) -> None:
    """The pack config (JSON) for `pulumi preview --policy-pack policies --policy-pack-config FILE`: every stack
    policy gets externalResources, the facts about the vSwitches and node pools the stack reads with `.get`
    (which `pulumi preview` never sends to policies). `milvus-zones check` adds the same by itself."""
    _check_output(output)
    program = _project(program)
    from milvus_zones.analysis import check as checker
    from milvus_zones.analysis import policy_facts
    from milvus_zones.engine.offline import config_for_program, read_project
    from milvus_zones.planning.stackconfig import NAMESPACE

    try:
        raw = checker.load_policy_config(policy_config)
        checker.resolve_config(raw, where=f"policy config {policy_config}")
        given = _given_external(external)
        stack_cfg = resolve_stack(stack, program)
        project = read_project(program)
        if project.get("name") != NAMESPACE:
            if external is None:
                raise ProgramError(f"{program}: not the milvus-zones project; give the facts about what your program "
                                   "reads with `.get` with --external FILE (docs/policies.md, externalResources)")
            _emit(policy_facts.render(given, raw), output)
            return
        if stack_cfg.file is not None:
            problems = spec_problems(stack_cfg.file, config_for_program(project, stack_cfg)[0])
            if problems:
                raise ProgramError("invalid stack configuration", problems=problems, path=stack_cfg.path)
        facts = checker.merged(_external_resources(stack_cfg, program), given)
    except ProgramError as e:
        raise _fail(_error_text(e)) from None
    _emit(policy_facts.render(facts, raw), output)


def _upgrade_problems(base_cfg, stack_cfg, program: Path, base_label: str) -> list:
    """The upgrade rules' refusals of the change base -> stack, each at the line of its key in the new file
    (Problem). Empty for programs other than this project's."""
    from milvus_zones.engine.offline import config_for_program, read_project
    from milvus_zones.engine.stackfile import Problem
    from milvus_zones.planning.spec import SpecError
    from milvus_zones.planning.stackconfig import NAMESPACE, spec_from_config
    from milvus_zones.planning.upgrade import upgrade_problems

    project = read_project(program)
    if project.get("name") != NAMESPACE:
        return []
    try:
        old = spec_from_config(config_for_program(project, base_cfg)[0])
    except SpecError as e:
        raise ProgramError(f"--base {base_label}: not a valid configuration: "
                           + "; ".join(f"{k}: {m}" for k, m in e.problems), path=stack_cfg.path) from None
    new = spec_from_config(config_for_program(project, stack_cfg)[0])
    found = []
    for key, message in upgrade_problems(old, new):
        full = f"{NAMESPACE}:{key}"
        pos = stack_cfg.file.locate(full) if stack_cfg.file is not None else None
        line, col = pos if pos else ((stack_cfg.file.config_line, 1) if stack_cfg.file is not None else (None, None))
        found.append(Problem(full, message, line, col))
    return found


def _check_upgrade(base: Path, stack_cfg, program: Path) -> None:
    """Refuse (as bad input, with the lines of the new file) what the deployed cluster cannot take."""
    from dataclasses import replace

    found = [replace(p, message=f"from the deployed configuration ({base}): {p.message}")
             for p in _upgrade_problems(resolve_stack(str(base), program), stack_cfg, program, str(base))]
    if found:
        raise ProgramError("change refused", problems=found, path=stack_cfg.path)


class DiffFormat(StrEnum):
    text = "text"
    markdown = "markdown"
    json = "json"


@app.command()
def diff(
    stacks: StacksArg = None,
    all_: AllOpt = False,
    base: Annotated[
        str | None,
        typer.Option("--base", help="The deployed configuration: a stack file, or a git revision whose copy of each "
                                    "stack file is used (default: the merge base of HEAD with origin/main, else "
                                    "main, else HEAD)."),
    ] = None,
    format: Annotated[DiffFormat, typer.Option("--format", "-f", help="Output format.")] = DiffFormat.text,
    program: ProgramOpt = None,
    output: OutputOpt = None,
) -> None:
    """Plan each stack and its base configuration offline and show, per resource, what `pulumi up` would
    create, update, replace or delete; the upgrade rules' refusals; the backup to take first.

    Exit 0 safe, 1 refused by the upgrade rules, 2 bad input, 3 a stateful or protected resource would be
    replaced or deleted (3 wins over 2 and 1 when stacks differ)."""
    import tempfile

    from milvus_zones.analysis import diff as differ
    from milvus_zones.analysis import diff_reports
    from milvus_zones.engine.gitbase import resolve_base

    _check_output(output)
    program = _project(program)
    names = _stack_names(stacks, all_, program)
    if base is not None and Path(base).is_file() and len(names) != 1:
        raise _fail("--base FILE is one stack's deployed configuration; give exactly one stack (or a git revision)")
    bases = {}
    for name in names:  # every base is found before any program runs: a wrong --base costs no planning
        try:
            bases[name] = resolve_base(resolve_stack(name, program).path, base)
        except ProgramError as e:
            raise _fail(_error_text(e)) from None
    results, bad = [], False
    for name in _Progress("diffing", names):
        try:
            stack_cfg, after = _load(name, program)
            found = bases[name]
            before = old_cfg = None
            if found.text is not None:
                with tempfile.TemporaryDirectory() as tmp:
                    copy = Path(tmp) / stack_cfg.path.name  # the same stack name, so the same URNs
                    copy.write_text(found.text)
                    try:
                        old_cfg, before = _load(str(copy), program)
                    except ProgramError as e:
                        raise ProgramError(f"--base {found.label}: "
                                           + _error_text(e).replace(str(copy), found.label)) from None
            refusals = _upgrade_problems(old_cfg, stack_cfg, program, found.label) if old_cfg is not None else []
        except ProgramError as e:
            typer.echo(f"error: {name}: {_error_text(e)}", err=True)
            bad = True
            continue
        result = differ.diff_stack(before, after, found.label, [(p.key.split(":", 1)[1], p.message) for p in refusals],
                                   _version_change(old_cfg, stack_cfg, program))
        result.notes += _secret_notes(old_cfg, stack_cfg)
        results.append(result)
    if results:
        _emit(diff_reports.render(results, format.value), output)
    code = differ.exit_code(results)
    raise typer.Exit(code if code == 3 else (2 if bad else code))


def _secret_notes(old_cfg, stack_cfg) -> list[str]:
    """Encrypted values the plan cannot compare: set, removed or re-encrypted since the base."""
    if old_cfg is None or old_cfg.file is None or stack_cfg.file is None:
        return []
    a, b = old_cfg.file.values, stack_cfg.file.values
    out = []
    for key in sorted(old_cfg.secure_keys | stack_cfg.secure_keys):
        if a.get(key) != b.get(key):
            what = "set" if key not in a else "removed" if key not in b else "re-encrypted"
            out.append(f"secret {key} was {what} since the base (offline its value cannot be compared; "
                       "the resources that read it are updated by `pulumi up` if it changed)")
    return out


def _version_change(old_cfg, stack_cfg, program: Path) -> str:
    """'2.5 -> 2.6, image v2.5.16 -> v2.6.22' when the Milvus image changes, else ''."""
    from milvus_zones.engine.offline import config_for_program, read_project
    from milvus_zones.planning.spec import SpecError
    from milvus_zones.planning.stackconfig import NAMESPACE, spec_from_config

    project = read_project(program)
    if old_cfg is None or project.get("name") != NAMESPACE:
        return ""
    try:
        old, new = (spec_from_config(config_for_program(project, c)[0]) for c in (old_cfg, stack_cfg))
    except SpecError:
        return ""
    if old.milvus_image.tag == new.milvus_image.tag and old.milvus_version == new.milvus_version:
        return ""
    return f"{old.milvus_version} -> {new.milvus_version}, image {old.milvus_image.tag} -> {new.milvus_image.tag}"


def _stack_label(name: str) -> str:
    p = Path(name)
    return p.name.removeprefix("Pulumi.").rsplit(".", 1)[0] if p.suffix in (".yaml", ".yml") or "/" in name else name


def _stack_path(name: str, program: Path) -> Path | None:
    from milvus_zones.engine.stacks import stack_dir

    p = Path(name)
    if p.suffix in (".yaml", ".yml") or "/" in name:
        return p if p.is_file() else None
    try:
        candidate = stack_dir(program) / f"Pulumi.{name}.yaml"
    except ProgramError:
        return None
    return candidate if candidate.is_file() else None


class FailuresFormat(StrEnum):
    text = "text"
    json = "json"
    markdown = "markdown"


CompareFormat = DiffFormat  # the same three reports


@app.command()
def failures(
    stacks: StacksArg = None,
    all_: AllOpt = False,
    format: Annotated[FailuresFormat, typer.Option("--format", "-f", help="Output format.")] = FailuresFormat.text,
    data_size: Annotated[float, typer.Option("--data-size", min=0, help="Data to reload after a relaunch, GiB.")] = 100,
    load_throughput: Annotated[
        float, typer.Option("--load-throughput", min=1, help="Segment load throughput per query node, MiB/s.")
    ] = 100,
    program: ProgramOpt = None,
    output: OutputOpt = None,
) -> None:
    """Take each zone away from each stack's resource graph: quorum, data, components, modeled RPO/RTO."""
    _check_output(output)
    program = _project(program)
    names = _stack_names(stacks, all_, program)
    from milvus_zones.analysis import failures as model

    texts, bad = _many(names, "failing zones of", program,
                       lambda cfg, graph: model.render(model.report(graph, data_size, load_throughput), format.value))
    if texts:
        _emit(_join(texts, format.value), output)
    raise typer.Exit(2 if bad else 0)


@app.command()
def compare(
    stacks: StacksArg = None,
    format: Annotated[CompareFormat, typer.Option("--format", "-f", help="Output format.")] = CompareFormat.text,
    prices: Annotated[
        Path | None,
        typer.Option("--prices", help="JSON or YAML file: instance type -> hourly price (default: built-in weights).",
                     exists=True, dir_okay=False),
    ] = None,
    program: ProgramOpt = None,
    output: OutputOpt = None,
) -> None:
    """The seed's comparison table for the given stacks (default: every stack in stacks/), from each graph."""
    _check_output(output)
    from milvus_zones.analysis import compare as table

    program = _project(program)
    names = _stack_names(stacks, not stacks, program)
    try:
        price_map = table.load_prices(prices) if prices else None
    except table.PriceError as e:
        raise _fail(str(e)) from None
    graphs, bad = _many(names, "planning", program, lambda cfg, graph: graph)
    if bad:
        raise typer.Exit(2)
    try:
        rows = table.compare(list(graphs.values()), price_map)
    except (ProgramError, table.PriceError) as e:
        raise _fail(str(e)) from None
    _emit(table.render(rows, format.value, prices is not None), output)


@app.command()
def switchover(
    stack: StackArg,
    to: Annotated[str, typer.Option("--to", help="The region to make primary.")],
    failover: Annotated[
        bool, typer.Option("--failover", help="Unplanned: the current primary is lost; promote without it.")
    ] = False,
    write: Annotated[bool, typer.Option("--write", help="Write the edited stack file (default: show it only).")] = False,
    program: ProgramOpt = None,
) -> None:
    """cross-region-ha: make another region primary. Edits primaryRegion (and forcePromote), proves
    offline that no stateful resource would be replaced, and prints the procedure to run."""
    import tempfile

    from milvus_zones.engine.offline import run_program
    from milvus_zones.operations import switchover as sw

    program = _project(program)
    try:
        stack_cfg = resolve_stack(stack, program)
        change = sw.plan_change(stack_cfg.path, to, failover)
        before = run_program(program, stack_cfg)
        with tempfile.TemporaryDirectory() as tmp:
            edited = Path(tmp) / stack_cfg.path.name  # same stack name, so the same URNs
            edited.write_text(change.text)
            after = run_program(program, resolve_stack(str(edited), program))
    except ProgramError as e:
        raise _fail(str(e)) from None
    replaced = sw.check_no_replacement(before, after)
    if replaced:
        raise _fail("the change would replace stateful resources:\n" + "\n".join(replaced))
    cluster = next(r.urn for r in after.of_type("alicloud:cs/managedKubernetes:ManagedKubernetes")
                   if f"milvus-{change.new_primary}-" in r.urn)
    typer.echo(f"roles: primary {after.outputs['primaryRegion']}, standby {after.outputs['standbyRegion']}; "
               f"no stateful resource replaced ({sum(len(before.of_type(t)) for t in sw.STATEFUL_TYPES)} checked)")
    typer.echo(sw.procedure(change, stack_cfg.stack, sw.failover_targets(after, cluster)))
    if write:
        stack_cfg.path.write_text(change.text)
        typer.echo(f"wrote {stack_cfg.path}")
    else:
        typer.echo(f"(not written: rerun with --write to update {stack_cfg.path})")


@app.command("deployed-tag")
def deployed_tag(stack: StackArg, program: ProgramOpt = None) -> None:
    """Print the `pulumi stack tag set` that records what this stack file deploys, for the pack's
    upgrade-from-deployed policy: run it after each successful `pulumi up`."""
    import shlex

    from milvus_zones.engine.offline import config_for_program, read_project
    from milvus_zones.planning.spec import SpecError
    from milvus_zones.planning.stackconfig import format_problems, spec_from_config
    from milvus_zones.planning.upgrade import deployed_tag as tag_of

    program = _project(program)
    try:
        stack_cfg = resolve_stack(stack, program)
        spec = spec_from_config(config_for_program(read_project(program), stack_cfg)[0])
    except ProgramError as e:
        raise _fail(_error_text(e)) from None
    except SpecError as e:
        raise _fail(f"invalid stack configuration:\n{format_problems(e)}") from None
    name, value = tag_of(spec)
    typer.echo(f"pulumi stack tag set {name} {shlex.quote(value)} -s {shlex.quote(stack_cfg.stack)}")


@app.command()
def images(
    words: Annotated[list[str], typer.Argument(
        metavar="[pin] STACK",
        help="STACK: list the images the stack runs. `pin STACK`: read each tag-only image's digest from the "
             "registry and write them into the stack file's imageDigests.")],
    registry: Annotated[str | None, typer.Option(
        "--registry", help="pin: the registry to read digests from, host[:port][/path] (HTTPS) or http(s)://... "
                           "(default: the stack's imageRegistry, else Docker Hub).")] = None,
    all_: Annotated[bool, typer.Option(
        "--all", help="pin: read every image's digest, also those the catalog pins (a mirror that re-compressed "
                      "them serves others).")] = False,
    program: ProgramOpt = None,
) -> None:
    """The images a stack runs (reference, digest, where the digest comes from), or `images pin STACK`:
    their digests read from the registry the stack pulls from (OCI Distribution API; credentials from
    MILVUS_ZONES_REGISTRY_USERNAME / MILVUS_ZONES_REGISTRY_PASSWORD) and written into the stack file.
    Any failure: one line, exit 2, the file unchanged."""
    import tempfile

    from milvus_zones.engine.offline import config_for_program, read_project
    from milvus_zones.operations import image_pins
    from milvus_zones.operations.registry import Registry, RegistryError
    from milvus_zones.planning.spec import SpecError
    from milvus_zones.planning.stackconfig import format_problems, spec_from_config

    if len(words) == 1:
        action, stack = "list", words[0]
    elif len(words) == 2 and words[0] == "pin":
        action, stack = "pin", words[1]
    else:
        raise _fail(f"usage: milvus-zones images STACK, or milvus-zones images pin STACK; got {' '.join(words)!r}")
    if action == "list" and (registry is not None or all_):
        raise _fail("--registry and --all are options of `milvus-zones images pin STACK`")
    program = _project(program)

    def read(path: str):
        cfg = resolve_stack(path, program)
        return cfg, spec_from_config(config_for_program(read_project(program), cfg)[0])

    try:
        stack_cfg, spec = read(stack)
    except ProgramError as e:
        raise _fail(_error_text(e)) from None
    except SpecError as e:
        raise _fail(f"invalid stack configuration:\n{format_problems(e)}") from None
    if action == "list":
        typer.echo(image_pins.render(spec))
        return
    if stack_cfg.file is None:
        raise _fail(f"{stack}: not a stack file of this project; nothing to write")
    wanted = image_pins.to_pin(spec, all_)
    if not wanted:
        typer.echo("every image is pinned already (the catalog's digests and imageDigests); "
                   "--all reads them all from the registry")
        return
    try:
        source = Registry.parse(registry or spec.image_registry)
        resolved = image_pins.resolve(source, wanted)
    except RegistryError as e:
        raise _fail(str(e)) from None
    for image, answer in resolved:
        typer.echo(f"{image.name}  {answer.digest}  ({answer.kind}, {answer.media_type or 'no media type'})")
    digests = image_pins.pinned_digests(spec, resolved)
    if digests == spec.image_digests:
        typer.echo(f"{stack_cfg.path}: imageDigests already holds these digests; not written")
        return
    try:
        text = image_pins.edited_text(stack_cfg.path.read_text(), digests)
        with tempfile.TemporaryDirectory() as tmp:  # the edited file must read back as a valid stack
            edited = Path(tmp) / stack_cfg.path.name
            edited.write_text(text)
            read(str(edited))
    except (ProgramError, SpecError, ValueError) as e:
        raise _fail(f"the edited stack file would not be valid ({e}); not written") from None
    stack_cfg.path.write_text(text)
    typer.echo(f"wrote {image_pins.KEY} ({len(digests)} images) to {stack_cfg.path}")


def _csv(values: list[str] | None) -> tuple[str, ...]:
    return tuple(v.strip() for item in values or [] for v in item.split(",") if v.strip())


@app.command()
def restore(
    stack: StackArg,
    backup: Annotated[str, typer.Option("--backup", help="Backup name, e.g. milvus_202712010230 (milvus-backup list).")],
    collections: Annotated[
        list[str] | None,
        typer.Option("--collections", help="Collections to restore: coll, db.coll or db.* (repeat, or comma-separated); "
                                           "default: every collection of the backup."),
    ] = None,
    rename_suffix: Annotated[
        str | None, typer.Option("--rename-suffix", help="Restore each collection as <name><suffix>.")
    ] = None,
    existing: Annotated[
        list[str] | None,
        typer.Option("--existing", help="Collections that exist in the target (db.coll or coll): a restore onto one "
                                        "is refused."),
    ] = None,
    data_size: Annotated[
        float | None, typer.Option("--data-size", min=0, help="GiB the restored collections load: checked against "
                                                              "one query replica's memory.")
    ] = None,
    apply: Annotated[
        bool, typer.Option("--apply", help="Print the restore Job manifest (for kubectl apply -f -) instead.")
    ] = False,
    program: ProgramOpt = None,
) -> None:
    """Check a restore from the stack's backups offline; print the milvus-backup restore, or its Job.

    Exit 0 when the request is valid, 2 with one message per problem otherwise."""
    import yaml

    from milvus_zones.operations import restore as rs
    from milvus_zones.planning.spec import SpecError
    from milvus_zones.planning.stackconfig import format_problems, spec_from_config

    program = _project(program)
    try:
        stack_cfg = resolve_stack(stack, program)
        spec = spec_from_config(stack_cfg.values)
    except ProgramError as e:
        raise _fail(str(e)) from None
    except SpecError as e:
        raise _fail(f"invalid stack configuration:\n{format_problems(e)}") from None
    request = rs.RestoreRequest(backup=backup, collections=_csv(collections), rename_suffix=rename_suffix,
                                existing=_csv(existing), data_size_gib=data_size)
    try:
        checked = rs.check(spec, request)
    except rs.RestoreError as e:
        raise _fail("the restore request is refused:\n" + "\n".join(f"{k}: {m}" for k, m in e.problems)) from None
    if apply:
        typer.echo(yaml.safe_dump(rs.restore_job(checked), sort_keys=False), nl=False)
    else:
        typer.echo(rs.render(checked, stack_cfg.stack), nl=False)


def main() -> None:
    """The console script. After the command, flush and leave with os._exit: tearing down an
    interpreter that imported the Pulumi SDKs (and their gRPC threads) costs time no user needs;
    `make bench` measures it. MILVUS_ZONES_FULL_EXIT=1 keeps the normal teardown, and
    MILVUS_ZONES_GC=default the collector's default schedule while importing."""
    if os.environ.get("MILVUS_ZONES_GC") != "default":
        gc.disable()  # importing the SDKs builds ~10^6 objects and no garbage; see _imports_done
    try:
        app()
        code = 0
    except SystemExit as e:
        code = e.code if isinstance(e.code, int) else (0 if e.code is None else 1)
        if isinstance(e.code, str):
            sys.stderr.write(e.code + "\n")
    if os.environ.get("MILVUS_ZONES_FULL_EXIT") == "1":
        raise SystemExit(code)
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(code)


if __name__ == "__main__":
    main()

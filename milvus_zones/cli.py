"""`milvus-zones`: the offline plan and the offline policy check of a stack."""

from __future__ import annotations

import sys
from enum import StrEnum
from pathlib import Path
from typing import Annotated

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


def _run(stack: str, program: Path | None):
    """The stack's config and its recorded graph; bad input ends the command with exit code 2."""
    from milvus_zones.engine.offline import run_program

    program = _project(program)
    try:
        stack_cfg = resolve_stack(stack, program)
        return stack_cfg, run_program(program, stack_cfg)
    except ProgramError as e:
        raise _fail(str(e)) from None


def _emit(text: str, output: Path | None) -> None:
    if output is None:
        sys.stdout.write(text if text.endswith("\n") else text + "\n")
    else:
        output.write_text(text)


@app.command()
def plan(
    stack: StackArg,
    format: Annotated[PlanFormat, typer.Option("--format", "-f", help="Output format.")] = PlanFormat.text,
    program: ProgramOpt = None,
    output: OutputOpt = None,
) -> None:
    """Run the stack's Pulumi program under the mock engine and show its resource graph by zone."""
    from milvus_zones.analysis import planview

    _, graph = _run(stack, program)
    _emit(planview.render(graph, format.value), output)


@app.command()
def check(
    stack: StackArg,
    format: Annotated[CheckFormat, typer.Option("--format", "-f", help="Output format.")] = CheckFormat.text,
    program: ProgramOpt = None,
    policy_config: Annotated[
        Path | None,
        typer.Option("--policy-config", help="Policy pack config (JSON), as `pulumi preview --policy-pack-config`."),
    ] = None,
    output: OutputOpt = None,
) -> None:
    """Run the policy pack offline on the stack's resource graph. Exit 0 clean, 1 mandatory violation, 2 bad input."""
    from milvus_zones.analysis import check as checker

    stack_cfg, graph = _run(stack, program)
    try:
        report = checker.check_graph(graph, policy_config, source=stack_cfg.path, config=stack_cfg.values)
    except ProgramError as e:
        raise _fail(str(e)) from None
    _emit(checker.render(report, format.value), output)
    raise typer.Exit(1 if report.mandatory_violations else 0)


class FailuresFormat(StrEnum):
    text = "text"
    json = "json"
    markdown = "markdown"


class CompareFormat(StrEnum):
    text = "text"
    markdown = "markdown"
    json = "json"


@app.command()
def failures(
    stack: StackArg,
    format: Annotated[FailuresFormat, typer.Option("--format", "-f", help="Output format.")] = FailuresFormat.text,
    data_size: Annotated[float, typer.Option("--data-size", min=0, help="Data to reload after a relaunch, GiB.")] = 100,
    load_throughput: Annotated[
        float, typer.Option("--load-throughput", min=1, help="Segment load throughput per query node, MiB/s.")
    ] = 100,
    program: ProgramOpt = None,
    output: OutputOpt = None,
) -> None:
    """Take each zone away from the stack's resource graph: quorum, data, components, modeled RPO/RTO."""
    from milvus_zones.analysis import failures as model

    _, graph = _run(stack, program)
    _emit(model.render(model.report(graph, data_size, load_throughput), format.value), output)


@app.command()
def compare(
    format: Annotated[CompareFormat, typer.Option("--format", "-f", help="Output format.")] = CompareFormat.text,
    prices: Annotated[
        Path | None,
        typer.Option("--prices", help="JSON or YAML file: instance type -> hourly price (default: built-in weights).",
                     exists=True, dir_okay=False),
    ] = None,
    program: ProgramOpt = None,
    output: OutputOpt = None,
) -> None:
    """The seed's comparison table for every stack in stacks/, computed from each stack's graph."""
    from milvus_zones.analysis import compare as table
    from milvus_zones.engine.offline import run_program
    from milvus_zones.engine.stacks import available_stacks

    program = _project(program)
    try:
        price_map = table.load_prices(prices) if prices else None
        graphs = [run_program(program, resolve_stack(s, program)) for s in available_stacks(program)]
        rows = table.compare(graphs, price_map)
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


def main() -> None:
    app()


if __name__ == "__main__":
    main()

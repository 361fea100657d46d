"""`milvus-zones`: the offline plan and the offline policy check of a stack."""

from __future__ import annotations

import sys
from enum import StrEnum
from pathlib import Path
from typing import Annotated

import typer

from milvus_zones.offline import ProgramError
from milvus_zones.stacks import PROJECT_DIR, resolve_stack

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
    Path,
    typer.Option("--program", help="Pulumi Python program directory (default: this project).",
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


def _emit(text: str, output: Path | None) -> None:
    if output is None:
        sys.stdout.write(text if text.endswith("\n") else text + "\n")
    else:
        output.write_text(text)


@app.command()
def plan(
    stack: StackArg,
    format: Annotated[PlanFormat, typer.Option("--format", "-f", help="Output format.")] = PlanFormat.text,
    program: ProgramOpt = PROJECT_DIR,
    output: OutputOpt = None,
) -> None:
    """Run the stack's Pulumi program under the mock engine and show its resource graph by zone."""
    from milvus_zones import planview
    from milvus_zones.offline import run_program

    try:
        stack_cfg = resolve_stack(stack, program)
        graph = run_program(program, stack_cfg)
    except ProgramError as e:
        raise _fail(str(e)) from None
    _emit(planview.render(graph, format.value), output)


@app.command()
def check(
    stack: StackArg,
    format: Annotated[CheckFormat, typer.Option("--format", "-f", help="Output format.")] = CheckFormat.text,
    program: ProgramOpt = PROJECT_DIR,
    policy_config: Annotated[
        Path | None,
        typer.Option("--policy-config", help="Policy pack config (JSON), as `pulumi preview --policy-pack-config`."),
    ] = None,
    output: OutputOpt = None,
) -> None:
    """Run the policy pack offline on the stack's resource graph. Exit 0 clean, 1 mandatory violation, 2 bad input."""
    from milvus_zones import check as checker
    from milvus_zones.offline import run_program

    try:
        stack_cfg = resolve_stack(stack, program)
        graph = run_program(program, stack_cfg)
        report = checker.check_graph(graph, policy_config)
    except ProgramError as e:
        raise _fail(str(e)) from None
    _emit(checker.render(report, format.value), output)
    raise typer.Exit(1 if report.mandatory_violations else 0)


def main() -> None:
    app()


if __name__ == "__main__":
    main()

"""Finding a stack: a name in `stacks/` or a path to a stack config file."""

from __future__ import annotations

from pathlib import Path

from milvus_zones.engine.offline import (
    ProgramError,
    StackConfig,
    read_project,
    read_stack_config,
)


def find_project(start: Path | None = None) -> Path:
    """The Pulumi project a command works on: the nearest folder with a Pulumi.yaml, from `start`
    (default: the current directory) upwards, as the Pulumi CLI finds it."""
    here = (start or Path.cwd()).resolve()
    for folder in (here, *here.parents):
        if (folder / "Pulumi.yaml").is_file() or (folder / "Pulumi.yml").is_file():
            return folder
    raise ProgramError(f"no Pulumi.yaml in {here} or a folder above it; run in a Pulumi project or pass --program DIR")


def _project_or_none(program_dir: Path | None) -> dict | None:
    """The project a stack file given by path is checked against (None: read_stack_config looks
    beside the file)."""
    try:
        return read_project(program_dir or find_project())
    except ProgramError:
        return None


def stack_dir(program_dir: Path) -> Path:
    project = read_project(program_dir)
    return program_dir / project.get("stackConfigDir", ".")


def available_stacks(program_dir: Path | None = None) -> list[str]:
    program_dir = program_dir or find_project()
    return sorted(p.name.removeprefix("Pulumi.").rsplit(".", 1)[0] for p in stack_dir(program_dir).glob("Pulumi.*.yaml"))


def resolve_stack(stack: str, program_dir: Path | None = None) -> StackConfig:
    """STACK is a stack name (`<stackConfigDir>/Pulumi.<STACK>.yaml`) or a path to a stack config file."""
    candidate = Path(stack)
    if candidate.suffix in (".yaml", ".yml") or "/" in stack:
        if not candidate.is_file():
            raise ProgramError(f"stack config file {stack} does not exist")
        return read_stack_config(candidate, _project_or_none(program_dir))
    program_dir = program_dir or find_project()
    path = stack_dir(program_dir) / f"Pulumi.{stack}.yaml"
    if not path.is_file():
        known = ", ".join(available_stacks(program_dir)) or "none"
        raise ProgramError(f"unknown stack {stack!r}; stacks in {stack_dir(program_dir)}: {known}")
    return read_stack_config(path, read_project(program_dir))

"""Finding a stack: a name in `stacks/` or a path to a stack config file."""

from __future__ import annotations

from pathlib import Path

from milvus_zones.offline import ProgramError, StackConfig, read_project, read_stack_config

PROJECT_DIR = Path(__file__).resolve().parent.parent


def stack_dir(program_dir: Path) -> Path:
    project = read_project(program_dir)
    return program_dir / project.get("stackConfigDir", ".")


def available_stacks(program_dir: Path = PROJECT_DIR) -> list[str]:
    return sorted(p.name.removeprefix("Pulumi.").rsplit(".", 1)[0] for p in stack_dir(program_dir).glob("Pulumi.*.yaml"))


def resolve_stack(stack: str, program_dir: Path = PROJECT_DIR) -> StackConfig:
    """STACK is a stack name (`<stackConfigDir>/Pulumi.<STACK>.yaml`) or a path to a stack config file."""
    candidate = Path(stack)
    if candidate.suffix in (".yaml", ".yml") or "/" in stack:
        if not candidate.is_file():
            raise ProgramError(f"stack config file {stack} does not exist")
        return read_stack_config(candidate, read_project(program_dir))
    path = stack_dir(program_dir) / f"Pulumi.{stack}.yaml"
    if not path.is_file():
        known = ", ".join(available_stacks(program_dir)) or "none"
        raise ProgramError(f"unknown stack {stack!r}; stacks in {stack_dir(program_dir)}: {known}")
    return read_stack_config(path, read_project(program_dir))

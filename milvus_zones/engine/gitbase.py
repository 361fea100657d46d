"""The base a stack file is compared with: another file, or the same file at a git revision.

Without `--base`, the revision is the merge base of HEAD with `origin/main` (or with `main` when there
is no `origin/main`, or HEAD itself when neither exists), in the git repository that holds the stack
file: what a pull request's branch changes, and on main itself the uncommitted edits.
"""

from __future__ import annotations

import subprocess
from dataclasses import dataclass
from pathlib import Path

from milvus_zones.engine.offline import ProgramError


@dataclass(frozen=True)
class Base:
    label: str  # e.g. "main@3f2c1ab (merge base)" or the file's path
    text: str | None  # the base stack file's content; None when the file does not exist there (a new stack)


def _git(cwd: Path, *args: str) -> str | None:
    try:
        done = subprocess.run(["git", *args], check=False, cwd=cwd, capture_output=True, text=True, timeout=30)
    except (OSError, subprocess.TimeoutExpired):
        return None
    return done.stdout.strip() if done.returncode == 0 else None


def default_revision(repo_dir: Path) -> tuple[str, str]:
    """(commit, label) of the default base: the merge base with origin/main or main, else HEAD."""
    for branch in ("origin/main", "main"):
        if _git(repo_dir, "rev-parse", "--verify", "--quiet", f"{branch}^{{commit}}"):
            commit = _git(repo_dir, "merge-base", "HEAD", branch)
            if commit:
                return commit, f"{branch}@{commit[:10]} (merge base with HEAD)"
    commit = _git(repo_dir, "rev-parse", "--verify", "--quiet", "HEAD^{commit}")
    if not commit:
        raise ProgramError(f"{repo_dir}: not in a git repository with a commit; give --base FILE")
    return commit, f"HEAD@{commit[:10]}"


def resolve_base(stack_file: Path, base: str | None) -> Base:
    """`base` is a file, a git revision, or None for the default revision."""
    stack_file = stack_file.resolve()
    if base is not None and Path(base).is_file():
        return Base(base, Path(base).read_text(encoding="utf-8", errors="replace"))
    folder = stack_file.parent
    top = _git(folder, "rev-parse", "--show-toplevel")
    if top is None:
        what = f"--base {base}: not a file, and " if base is not None else ""
        raise ProgramError(f"{what}{stack_file} is not in a git repository; give --base FILE")
    if base is None:
        commit, label = default_revision(folder)
    else:
        commit = _git(folder, "rev-parse", "--verify", "--quiet", f"{base}^{{commit}}") or ""
        if not commit:
            raise ProgramError(f"--base {base}: neither a file nor a git revision of {top}")
        label = f"{base}@{commit[:10]}" if not commit.startswith(base) else commit[:10]
    rel = stack_file.relative_to(Path(top).resolve()).as_posix()
    text = _git(folder, "show", f"{commit}:{rel}")
    return Base(f"{rel} at {label}", text)

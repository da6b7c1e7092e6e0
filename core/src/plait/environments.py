"""Where a shell task's command runs: natively (the default) or in a container.

An environment turns the task's argument list into the one to execute;
containers bind the job directory and the input files' folders.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import attrs

if TYPE_CHECKING:
    from .shell import ShellDef


@attrs.frozen
class Native:
    """Run the command on the host as it is."""

    def wrap(self, args: list[str], job_dir: str, task: ShellDef) -> list[str]:
        """Return ``args`` unchanged."""
        return list(args)


def _bind_dirs(job_dir: str, task: ShellDef) -> list[str]:
    from .shell import input_paths

    dirs = {str(Path(job_dir).resolve())}
    dirs.update(str(p.resolve().parent) for p in input_paths(task))
    return sorted(dirs)


@attrs.frozen
class Docker:
    """Run the command in a Docker container of ``image`` (``docker run --rm``)."""

    image: str
    extra_args: tuple[str, ...] = ()

    def wrap(self, args: list[str], job_dir: str, task: ShellDef) -> list[str]:
        """``docker run`` with the job dir and input folders bound at the same paths."""
        cmd = ["docker", "run", "--rm", "-w", str(Path(job_dir).resolve())]
        for d in _bind_dirs(job_dir, task):
            cmd += ["-v", f"{d}:{d}"]
        return [*cmd, *self.extra_args, self.image, *args]


@attrs.frozen
class Apptainer:
    """Run the command in an Apptainer/Singularity image (``apptainer exec``)."""

    image: str
    extra_args: tuple[str, ...] = ()
    executable: str = "apptainer"

    def wrap(self, args: list[str], job_dir: str, task: ShellDef) -> list[str]:
        """``apptainer exec`` with the job dir and input folders bound."""
        cmd = [self.executable, "exec", "--pwd", str(Path(job_dir).resolve())]
        for d in _bind_dirs(job_dir, task):
            cmd += ["-B", f"{d}:{d}"]
        return [*cmd, *self.extra_args, self.image, *args]

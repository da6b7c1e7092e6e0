"""plait: typed tasks and workflows, split/combine, content-hashed cache, any host.

Example::

    from plait import python

    @python.define
    def TenToThePower(p: int) -> int:
        return 10 ** p

    TenToThePower().split(p=[1, 2, 3])(worker="cf", n_procs=2).out   # [10, 100, 1000]
"""

from __future__ import annotations

from . import python, shell, workflow
from .cache import load_result
from .definition import TaskDef
from .driver import Driver, Progress, RunOutcome
from .errors import (
    DefinitionError,
    GraphError,
    InputError,
    JobFailedError,
    PlaitError,
    StateError,
)
from .graph import Graph, Job, Node, NodeOutput, SkippedJob, compile
from .hashing import bytes_repr, hash_object
from .hooks import TaskHooks
from .identity import register_definition_hashing
from .resources import Resources
from .result import ErrorInfo, Result, Runtime
from .run import run_job
from .submitter import Submitter
from .workers import Worker, get_worker

register_definition_hashing()

__version__ = "0.1.0"

__all__ = [
    "DefinitionError",
    "Driver",
    "ErrorInfo",
    "Graph",
    "GraphError",
    "InputError",
    "Job",
    "JobFailedError",
    "Node",
    "NodeOutput",
    "PlaitError",
    "Progress",
    "Resources",
    "Result",
    "RunOutcome",
    "Runtime",
    "SkippedJob",
    "StateError",
    "Submitter",
    "TaskDef",
    "TaskHooks",
    "Worker",
    "bytes_repr",
    "compile",
    "get_worker",
    "hash_object",
    "load_result",
    "python",
    "run_job",
    "shell",
    "workflow",
]

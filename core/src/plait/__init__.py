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
from .driver import Driver, Progress, RunOutcome, run_node, run_workflow_job
from .errors import (
    DefinitionError,
    GraphError,
    InputError,
    JobFailedError,
    NotANodeError,
    PlaitError,
    StateError,
    failure_report,
)
from .graph import Element, Graph, Job, Node, NodeOutput, SkippedJob, compile
from .hashing import bytes_repr, hash_object
from .hooks import TaskHooks
from .identity import register_definition_hashing
from .labels import parse_label, render_label
from .resources import Resources
from .result import ErrorInfo, Result, Runtime
from .run import run_job
from .submitter import Submitter
from .trust import trust_cache
from .workers import Worker, get_worker

register_definition_hashing()

__version__ = "0.1.0"

__all__ = [
    "DefinitionError",
    "Driver",
    "Element",
    "ErrorInfo",
    "Graph",
    "GraphError",
    "InputError",
    "Job",
    "JobFailedError",
    "Node",
    "NodeOutput",
    "NotANodeError",
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
    "failure_report",
    "get_worker",
    "hash_object",
    "load_result",
    "parse_label",
    "python",
    "render_label",
    "run_job",
    "run_node",
    "run_workflow_job",
    "shell",
    "trust_cache",
    "workflow",
]

"""Live progress of a run: per-node counts from the driver's :class:`~plait.Progress` events.

:class:`ProgressCounts` turns the events into per-node counts (done, cached,
failed, skipped, running, total); :class:`LiveProgress` draws them as a rich
live display, one bar per node, that reaches 100% when the run ends.
``Submitter(progress=...)`` picks through :func:`progress_for`:

- ``None`` (the default): the live display when standard error is a terminal,
  nothing otherwise (a pipe, a file, CI logs);
- ``True`` / ``False``: always / never the live display;
- a callable: called with every :class:`~plait.Progress` event, no display.
"""

from __future__ import annotations

import contextlib
import sys
import threading
from collections.abc import Callable, Iterator, Mapping
from typing import TYPE_CHECKING, Any, TextIO

import attrs

if TYPE_CHECKING:
    from .driver import Progress
    from .graph import Graph

__all__ = ["LiveProgress", "NodeCounts", "ProgressCounts", "progress_for"]

#: a progress setting: auto (None), on/off, or a callback
ProgressSetting = bool | Callable[["Progress"], Any] | None


@attrs.define
class NodeCounts:
    """Jobs of one node by outcome so far; ``total`` is None until the node expands."""

    done: int = 0
    cached: int = 0
    failed: int = 0
    skipped: int = 0
    running: int = 0
    total: int | None = None
    seen: int = 0

    @property
    def finished(self) -> int:
        """Jobs with an outcome: done + cached + failed + skipped."""
        return self.done + self.cached + self.failed + self.skipped

    @property
    def status(self) -> str:
        """``pending``, ``running``, ``failed``, ``partial``, ``skipped``, ``cached`` or ``done``."""
        if self.running or (self.total is not None and self.finished < self.total):
            return "running" if self.finished or self.running else "pending"
        if not self.finished:
            return "pending"
        if self.failed:
            return "failed"
        if self.skipped:
            return "partial" if self.done or self.cached else "skipped"
        if self.cached and not self.done:
            return "cached"
        return "done"


def node_of(event: Progress) -> str:
    """The node an event is about: its ``node`` field, else the name part of its label."""
    node = getattr(event, "node", None)
    if node:
        return str(node)
    try:
        from .labels import parse_label  # type: ignore[import-not-found,unused-ignore]

        return str(parse_label(event.label)[0])
    except ImportError:  # before plait.labels: labels are Node or Node[state]
        return event.label.partition("[")[0]


class ProgressCounts:
    """Per-node counts built from progress events; call it with each event."""

    def __init__(self, graph: Graph | None = None) -> None:
        self.nodes: dict[str, NodeCounts] = {}
        self._lock = threading.Lock()
        if graph is not None:
            for name in graph.nodes:
                self.nodes[name] = NodeCounts(total=_static_total(graph, name))

    def __call__(self, event: Progress) -> None:
        """Count ``event``."""
        with self._lock:
            counts = self.nodes.setdefault(node_of(event), NodeCounts())
            status = event.status
            if status in ("submitted", "cached", "skipped"):
                counts.seen += 1
            if status == "submitted":
                counts.running += 1
            elif status == "finished":
                counts.running = max(0, counts.running - 1)
                counts.done += 1
            elif status == "failed":
                counts.running = max(0, counts.running - 1)
                counts.failed += 1
            elif status == "cached":
                counts.cached += 1
            elif status == "skipped":
                counts.skipped += 1
            # event.total counts the whole run; a node's total comes from the graph

    def finish(self) -> None:
        """The run ended: every node's total is what it reached."""
        with self._lock:
            for counts in self.nodes.values():
                counts.running = 0
                counts.total = counts.finished

    def statuses(self) -> dict[str, str]:
        """Node name -> status (for :func:`plait.graphviz.to_dot` colours)."""
        with self._lock:
            return {name: c.status for name, c in self.nodes.items() if c.finished or c.running}

    def total(self, counts: NodeCounts) -> int | None:
        """The node's total if known: from the event/graph, else its jobs seen so far."""
        if counts.total is not None:
            return max(counts.total, counts.seen)
        return counts.seen or None


def _static_total(graph: Graph, name: str) -> int | None:
    indices = getattr(graph, "static_indices", None)
    if indices is None:
        return None
    try:
        found = indices(name)
    except Exception:  # the display never breaks a run
        return None
    return None if found is None else len(found)


class LiveProgress(ProgressCounts):
    """A rich live display of per-node progress; a context manager and an event callback."""

    def __init__(self, graph: Graph | None = None, file: TextIO | None = None) -> None:
        from rich.console import Console
        from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn

        super().__init__(graph)
        self.console = Console(file=file or sys.stderr)
        self._bars = Progress(
            TextColumn("[bold]{task.description}", justify="left"),
            BarColumn(),
            TextColumn("{task.completed:>5.0f}/{task.fields[total_text]:<5}"),
            TextColumn("[green]{task.fields[done]} done"),
            TextColumn("[blue]{task.fields[cached]} cached"),
            TextColumn("[red]{task.fields[failed]} failed"),
            TextColumn("[dim]{task.fields[skipped]} skipped"),
            TextColumn("[yellow]{task.fields[running]} running"),
            TimeElapsedColumn(),
            console=self.console,
            transient=False,
            refresh_per_second=8,
        )
        self._tasks: dict[str, Any] = {}
        for name in self.nodes:
            self._row(name)

    def _row(self, name: str) -> Any:
        if name not in self._tasks:
            self._tasks[name] = self._bars.add_task(
                name, total=None, total_text="?", done=0, cached=0, failed=0, skipped=0, running=0
            )
        return self._tasks[name]

    def _draw(self, name: str, counts: NodeCounts) -> None:
        total = self.total(counts)
        self._bars.update(
            self._row(name),
            completed=counts.finished,
            total=total,
            total_text="?" if total is None else str(total),
            done=counts.done,
            cached=counts.cached,
            failed=counts.failed,
            skipped=counts.skipped,
            running=counts.running,
        )

    def __call__(self, event: Progress) -> None:
        """Count ``event`` and redraw its node's bar."""
        super().__call__(event)
        name = node_of(event)
        self._draw(name, self.nodes[name])

    def finish(self) -> None:
        """Bring every bar to its final count (100%); drop rows of nodes nothing ran for.

        (A workflow served whole from the cache leaves its inner nodes untouched:
        its own row says ``1 cached``.)
        """
        super().finish()
        for name, counts in self.nodes.items():
            if counts.finished == 0 and name in self._tasks:
                self._bars.remove_task(self._tasks.pop(name))
            else:
                self._draw(name, counts)

    def __enter__(self) -> LiveProgress:
        self._bars.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.finish()
        self._bars.stop()


def display_graph(defn: Any, graph: Graph) -> Graph:
    """The graph whose nodes the display lists: a lone unsplit workflow node's inner graph."""
    if len(graph.nodes) == 1:
        node = next(iter(graph.nodes.values()))
        if node.kind == "workflow" and not node.axes:
            with contextlib.suppress(Exception):
                from .graph import compile

                return compile(defn, cache_root=graph.cache_root)
    return graph


@contextlib.contextmanager
def progress_for(
    setting: ProgressSetting, graph: Graph, defn: Any = None, file: TextIO | None = None
) -> Iterator[Callable[[Progress], Any] | None]:
    """The driver's progress callback for ``setting`` (see the module docs), live while in use."""
    stream = file or sys.stderr
    if callable(setting):
        yield setting
        return
    on = setting if setting is not None else _is_terminal(stream)
    if not on:
        yield None
        return
    shown = display_graph(defn, graph) if defn is not None else graph
    with LiveProgress(shown, file=stream) as live:
        yield live


def _is_terminal(stream: TextIO) -> bool:
    isatty = getattr(stream, "isatty", None)
    return bool(isatty and isatty())


def counts_table(nodes: Mapping[str, NodeCounts]) -> str:
    """A plain-text summary of per-node counts (for logs and the CLI's piped output)."""
    width = max((len(n) for n in nodes), default=4)
    lines = []
    for name, c in nodes.items():
        lines.append(
            f"{name:<{width}}  {c.finished}/{c.total if c.total is not None else c.finished}  "
            f"done={c.done} cached={c.cached} failed={c.failed} skipped={c.skipped}"
        )
    return "\n".join(lines)

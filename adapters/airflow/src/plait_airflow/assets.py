"""Airflow Assets a ``to_dag`` DAG emits, so other DAGs can be scheduled on a node's data.

Each node's output task declares the asset ``plait://<workflow>/<node>``
(:func:`node_asset`) as an outlet: Airflow records an asset event whenever the
node's output is stored, and a DAG with ``schedule=[node_asset("Powers",
"Sum")]`` runs after it. A node with file outputs also declares the alias
``plait://<workflow>/<node>/files``; at run time it attaches one
``file://<path>`` asset per output file (the file in its job's cache
directory), so a DAG can be scheduled on the file itself.

``to_dag(..., emit_assets=False)`` turns this off; ``outlets={"Node":
[Asset(...)]}`` declares other assets for a node instead.
"""

from __future__ import annotations

import inspect
import typing
from collections.abc import Iterator, Mapping
from pathlib import PurePath
from typing import Any

from airflow.sdk import Asset, AssetAlias

from plait import Node

__all__ = ["file_paths", "files_alias", "node_asset", "node_outlets"]

SCHEME = "plait"


def node_asset(workflow: str, node: str) -> Asset:
    """The asset ``plait://<workflow>/<node>`` a ``to_dag`` DAG emits when the node finishes."""
    uri = f"{SCHEME}://{workflow}/{node}"
    return Asset(uri=uri, name=uri, group="plait")


def files_alias(workflow: str, node: str) -> AssetAlias:
    """The alias under which a node's output files are emitted as ``file://`` assets."""
    return AssetAlias(name=f"{SCHEME}://{workflow}/{node}/files", group="plait")


def _is_file_type(tp: Any) -> bool:
    if inspect.isclass(tp):
        return issubclass(tp, PurePath) or hasattr(tp, "fspaths") or hasattr(tp, "fspath")
    return any(_is_file_type(arg) for arg in typing.get_args(tp))


def node_outlets(workflow: str, node: Node) -> list[Any]:
    """The outlets of a node's output task: its asset, and the files alias if it outputs files."""
    out: list[Any] = [node_asset(workflow, node.name)]
    if any(_is_file_type(f.type) for f in node.definition._outputs.values()):
        out.append(files_alias(workflow, node.name))
    return out


def file_paths(value: Any) -> Iterator[str]:
    """The paths of the files in ``value`` (nested in lists and dicts)."""
    if isinstance(value, PurePath):
        yield str(value)
        return
    fspaths = getattr(value, "fspaths", None)
    if fspaths is not None and hasattr(value, "fspath"):
        yield from sorted(str(p) for p in fspaths)
        return
    if isinstance(value, Mapping):
        for v in value.values():
            yield from file_paths(v)
    elif isinstance(value, (list, tuple)):
        for v in value:
            yield from file_paths(v)

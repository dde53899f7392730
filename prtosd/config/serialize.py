"""The model as plain JSON-able data and back, for ``prtosd check --json`` and for tools.

The conversion is driven by the dataclass type hints, so a new model field needs no code here.
Enums are written by name; the two channel kinds carry a ``kind`` tag. Derived information
(HM tables, vCPU placement, port ids) is added under ``derived`` and ignored when reading back.
"""

from __future__ import annotations

import dataclasses
import types
import typing
from enum import Enum, IntFlag
from functools import cache
from typing import Any

from prtosd.config import model
from prtosd.config.model import QueuingChannel, SamplingChannel, System

_CHANNEL_KINDS: dict[str, type] = {"sampling": SamplingChannel, "queuing": QueuingChannel}


@cache
def _hints(cls: type) -> dict[str, Any]:
    return typing.get_type_hints(cls, vars(model))


def to_data(obj: Any) -> Any:
    """Dataclass tree → dicts, lists and scalars."""
    if isinstance(obj, IntFlag):
        return int(obj)
    if isinstance(obj, Enum):
        return obj.name
    if dataclasses.is_dataclass(obj) and not isinstance(obj, type):
        out = {f.name: to_data(getattr(obj, f.name)) for f in dataclasses.fields(obj) if f.compare}
        if isinstance(obj, SamplingChannel | QueuingChannel):
            out = {"kind": "sampling" if isinstance(obj, SamplingChannel) else "queuing", **out}
        return out
    if isinstance(obj, tuple | list):
        return [to_data(x) for x in obj]
    return obj


def _from(tp: Any, data: Any) -> Any:
    origin = typing.get_origin(tp)
    if origin in (typing.Union, types.UnionType):
        args = typing.get_args(tp)
        if data is None and type(None) in args:
            return None
        if isinstance(data, dict) and "kind" in data:
            return _from(_CHANNEL_KINDS[data["kind"]], data)
        return _from(next(a for a in args if a is not type(None)), data)
    if origin is tuple:
        (item, *_rest) = typing.get_args(tp)
        return tuple(_from(item, x) for x in data)
    if isinstance(tp, type) and issubclass(tp, Enum):
        return tp[data] if isinstance(data, str) else tp(data)
    if dataclasses.is_dataclass(tp):
        hints = _hints(tp)
        kwargs = {
            f.name: _from(hints[f.name], data[f.name]) for f in dataclasses.fields(tp) if f.compare and f.name in data
        }
        return tp(**kwargs)
    return data


def from_data(data: dict[str, Any]) -> System:
    """Inverse of :func:`to_data` for a whole system (the ``derived`` key is ignored)."""
    return _from(System, {k: v for k, v in data.items() if k != "derived"})


def system_to_json_data(system: System) -> dict[str, Any]:
    """The model plus the information derived from it (config.md §5)."""
    data = to_data(system)
    data["derived"] = {
        "cpu_khz": system.cpu_khz,
        "vcpu_cpu": [[system.cpu_of(p.id, v) for v in range(p.no_vcpus)] for p in system.partitions],
        "hm_tables": {
            "hypervisor": [[e.action.name, e.log] for e in system.hypervisor.hm_table()],
            "partitions": [[[e.action.name, e.log] for e in p.hm_table()] for p in system.partitions],
        },
        "ipvi_routes": [
            {"id": i, "source": s, "destinations": list(d)} for (i, s), d in sorted(system.ipvi_routes().items())
        ],
    }
    return data

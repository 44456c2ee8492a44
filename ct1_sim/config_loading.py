"""Strict config loading: YAML (or any mapping) into dataclasses, refusing unknown keys and values of the wrong type.

Every error is a :class:`ConfigError` (a ``ValueError``) that names the file and the key, dotted through nested
sections (``model/configs/x.yaml: denoise.stepz is not a key of denoise; use steps, batch_size, lr, warmup_steps``),
so the CLI reports it as a user error. Types come from the dataclass annotations: ``int``, ``float`` (a whole
number is taken), ``bool``, ``str``, ``X | None``, ``tuple[X, Y]`` / ``tuple[X, ...]`` (from a YAML list),
``list[X]``, ``dict[K, V]``, ``Literal[...]``, ``Path`` and nested dataclasses (from a mapping); ``Any`` takes
anything. Range checks stay in each dataclass's ``__post_init__``; its ``ValueError`` gets the file name.

Example:
    >>> settings = load_yaml_config(TrainSettings, "model/configs/ct1-tiny.yaml", section="train")  # doctest: +SKIP
"""

from __future__ import annotations

import dataclasses
import inspect
import math
import os
import types
import typing
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any, TypeVar

T = TypeVar("T")


class ConfigError(ValueError):
    """A config file or value that cannot be used; the message names the file and the key."""


def _where(source: str, key: str) -> str:
    return f"{source}: {key}" if key else f"{source}:"


def read_yaml(path: str | os.PathLike[str], example: str | None = None) -> dict[str, Any]:
    """The top-level mapping of the YAML file ``path`` (an empty file is ``{}``).

    ``FileNotFoundError`` when there is no such file; :class:`ConfigError` for text that is not YAML, not UTF-8, or
    not a mapping. ``example`` (a path) is named in the messages as a file to compare with.
    """
    import yaml

    path = Path(path)
    see = f" (see {example})" if example else ""
    if not path.is_file():
        raise FileNotFoundError(f"no config file at {path}{see}")
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (yaml.YAMLError, UnicodeDecodeError) as err:
        raise ConfigError(f"{path} is not a valid YAML text file: {err}") from None
    if data is None:
        return {}
    if not isinstance(data, dict):
        raise ConfigError(f"{path}: expected a mapping of keys to values at the top, got {type(data).__name__}{see}")
    return data


def field_types(target: type | Callable[..., Any]) -> dict[str, Any]:
    """``name -> type`` of a dataclass's fields or of a callable's keyword parameters (from their annotations)."""
    if dataclasses.is_dataclass(target):
        hints = typing.get_type_hints(target)
        return {f.name: hints.get(f.name, Any) for f in dataclasses.fields(target) if f.init}
    hints = typing.get_type_hints(target)
    params = inspect.signature(target).parameters.values()
    return {p.name: hints.get(p.name, Any) for p in params
            if p.kind in (p.POSITIONAL_OR_KEYWORD, p.KEYWORD_ONLY) and p.name != "self"}


def check_keys(data: Mapping[str, Any], known: typing.Iterable[str], source: str, section: str = "") -> None:
    """:class:`ConfigError` naming the keys of ``data`` (the ``section`` of ``source``) that are not ``known``."""
    known = list(known)
    unknown = [f"{section}.{k}" if section else str(k) for k in data if k not in known]
    if not unknown:
        return
    where = f"of {section}" if section else "at the top level"
    verb = f"is not a key {where}" if len(unknown) == 1 else f"are not keys {where}"
    raise ConfigError(f"{source}: {', '.join(unknown)} {verb}; use {', '.join(known) or 'none'}")


def _kind(tp: Any) -> str:
    """How an expected type reads in a message."""
    origin, args = typing.get_origin(tp), typing.get_args(tp)
    if tp is bool:
        return "true or false"
    if tp is int:
        return "a whole number"
    if tp is float:
        return "a number"
    if tp is str or tp is Path:
        return "text"
    if origin in (types.UnionType, typing.Union):
        return " or ".join(_kind(a) for a in args if a is not type(None)) + " (or null)" * (type(None) in args)
    if origin is tuple:
        if len(args) == 2 and args[1] is Ellipsis:
            return f"a list of {_kind(args[0])}s"
        return f"a list of {len(args)} values ({', '.join(_kind(a) for a in args)})"
    if origin is list:
        return f"a list of {_kind(args[0])}s" if args else "a list"
    if origin is dict or tp is dict or dataclasses.is_dataclass(tp):
        return "a mapping of keys to values"
    if origin is typing.Literal:
        return "one of " + ", ".join(repr(a) for a in args)
    return getattr(tp, "__name__", str(tp))


def check_value(value: Any, tp: Any, source: str, key: str) -> Any:
    """``value`` checked against the type ``tp`` (and converted: lists to tuples, whole numbers to floats, mappings
    to nested dataclasses); :class:`ConfigError` naming ``source`` and ``key`` otherwise."""
    origin, args = typing.get_origin(tp), typing.get_args(tp)
    if tp is Any or tp is object:
        return value
    if origin in (types.UnionType, typing.Union):
        if value is None and type(None) in args:
            return None
        for arg in (a for a in args if a is not type(None)):
            try:
                return check_value(value, arg, source, key)
            except ConfigError:
                continue
        raise ConfigError(f"{_where(source, key)} must be {_kind(tp)}, got {value!r}")
    if dataclasses.is_dataclass(tp):
        if isinstance(value, tp):
            return value
        if not isinstance(value, Mapping):
            raise ConfigError(f"{_where(source, key)} must be {_kind(tp)}, got {value!r}")
        return from_dict(tp, value, source, key)
    bad = ConfigError(f"{_where(source, key)} must be {_kind(tp)}, got {value!r}")
    if tp is bool:
        if not isinstance(value, bool):
            raise bad
        return value
    if tp is int:
        if isinstance(value, bool) or not isinstance(value, int):
            raise bad
        return value
    if tp is float:
        if isinstance(value, bool) or not isinstance(value, int | float) or math.isnan(value):
            raise bad
        return float(value)
    if tp is str:
        if not isinstance(value, str):
            raise bad
        return value
    if tp is Path:
        if not isinstance(value, str | Path):
            raise bad
        return Path(value)
    if origin is typing.Literal:
        if value not in args:
            raise bad
        return value
    if origin is tuple:
        if not isinstance(value, list | tuple):
            raise bad
        if len(args) == 2 and args[1] is Ellipsis:
            return tuple(check_value(v, args[0], source, f"{key}[{i}]") for i, v in enumerate(value))
        if args and len(value) != len(args):
            raise bad
        return tuple(check_value(v, a, source, f"{key}[{i}]") for i, (v, a) in enumerate(zip(value, args or [Any] * len(value))))
    if origin is list or tp is list:
        if not isinstance(value, list | tuple):
            raise bad
        item = args[0] if args else Any
        return [check_value(v, item, source, f"{key}[{i}]") for i, v in enumerate(value)]
    if origin is dict or tp is dict:
        if not isinstance(value, Mapping):
            raise bad
        kt, vt = args if args else (Any, Any)
        return {check_value(k, kt, source, f"{key} key"): check_value(v, vt, source, f"{key}.{k}") for k, v in value.items()}
    if isinstance(tp, type):
        if not isinstance(value, tp):
            raise bad
        return value
    return value


def check_values(data: Mapping[str, Any], types_: Mapping[str, Any], source: str, section: str = "") -> dict[str, Any]:
    """``data`` with every key known to ``types_`` (``name -> type``, e.g. from :func:`field_types`) and every value
    checked against its type; :class:`ConfigError` naming ``source`` and the dotted key otherwise."""
    if not isinstance(data, Mapping):
        raise ConfigError(f"{_where(source, section)} must be a mapping of keys to values, got {data!r}")
    check_keys(data, types_, source, section)
    return {k: check_value(v, types_[k], source, f"{section}.{k}" if section else k) for k, v in data.items()}


def from_dict(cls: type[T], data: Mapping[str, Any], source: str, section: str = "") -> T:
    """An instance of the dataclass ``cls`` from ``data`` (the ``section`` of the file ``source``), checked strictly.

    Missing keys take the field defaults (a field without one must be given). A ``ValueError`` from the class's own
    checks comes back as a :class:`ConfigError` with the file name in front.
    """
    values = check_values(data, field_types(cls), source, section)
    missing = [f.name for f in dataclasses.fields(cls) if f.init and f.name not in values
               and f.default is dataclasses.MISSING and f.default_factory is dataclasses.MISSING]
    if missing:
        keys = ", ".join(f"{section}.{k}" if section else k for k in missing)
        raise ConfigError(f"{source}: missing {keys}; give {'it' if len(missing) == 1 else 'them'} in the file")
    try:
        return cls(**values)
    except ConfigError:
        raise
    except (ValueError, TypeError) as err:  # the class's own checks
        prefix = f"{section}: " if section and not str(err).startswith(section) else ""
        raise ConfigError(f"{source}: {prefix}{err}") from None


def load_yaml_config(cls: type[T], path: str | os.PathLike[str], *, section: str | None = None,
                     example: str | None = None) -> T:
    """The dataclass ``cls`` from the YAML file ``path`` (from its ``section`` when given), checked strictly."""
    data = read_yaml(path, example)
    if section is not None:
        check_keys(data, [section], str(path))
        data = data.get(section) or {}
    return from_dict(cls, data, str(path), section or "")

"""The structural half of checking a seller file: every unknown key, missing key and mistyped value.

msgspec stops at the first error, so the raw TOML is walked field by field here, each problem with its
key path. `salvage` then builds a section from its sound fields alone (a mistyped or missing field
takes its default, or a placeholder when it is required) and says which fields were unsound, so the
rules in config/rules.py still check everything else in that section.
"""

from __future__ import annotations

import typing
from typing import Any

import msgspec


def join(path: str, key: str | int) -> str:
    if isinstance(key, int):
        return f"{path}[{key}]"
    return f"{path}.{key}" if path else key


def _struct_type(tp: Any) -> type[msgspec.Struct] | None:
    return tp if isinstance(tp, type) and issubclass(tp, msgspec.Struct) else None


def fields_of(struct: Any) -> dict[str, Any]:
    """A Struct's fields by their TOML name; `source` is the loader's, never the file's."""
    return {f.encode_name: f for f in msgspec.structs.fields(struct) if f.name != "source"}


def unknown_keys(value: dict[str, Any], known: dict[str, Any], path: str, problems: list[str]) -> None:
    for key in value:
        if key not in known:
            names = ", ".join(sorted(known))
            problems.append(f"{join(path, key)}: unknown key (known: {names})")


def walk(value: Any, tp: Any, path: str, problems: list[str]) -> None:
    struct = _struct_type(tp)
    origin = typing.get_origin(tp)
    if struct is not None:
        if not isinstance(value, dict):
            problems.append(f"{path or '(top)'}: expected a table, got {type(value).__name__}")
            return
        fields = fields_of(struct)
        unknown_keys(value, fields, path, problems)
        for name, field in fields.items():
            if name in value:
                walk(value[name], field.type, join(path, name), problems)
            elif field.required:
                problems.append(f"{join(path, name)}: missing required key")
        return
    if origin is list and isinstance(value, list):
        (item_type,) = typing.get_args(tp)
        for i, item in enumerate(value):
            walk(item, item_type, join(path, i), problems)
        return
    if origin is dict and isinstance(value, dict):
        _, item_type = typing.get_args(tp)
        for key, item in value.items():
            walk(item, item_type, join(path, str(key)), problems)
        return
    try:
        msgspec.convert(value, tp, strict=True)
    except msgspec.ValidationError as exc:
        message = str(exc).split(" - at ")[0]
        problems.append(f"{path}: {message}")


def _placeholder(tp: Any) -> Any:
    """A value of a required field's type that no rule mistakes for a real one."""
    origin = typing.get_origin(tp) or tp
    return {str: "", dict: {}, list: []}.get(origin, "")


def salvage(raw: Any, tp: Any, path: str, problems: list[str]) -> tuple[Any | None, frozenset[str]]:
    """`raw` as a `tp` built from its sound fields, and the names of the unsound ones (their problems
    recorded); (None, ...) when `raw` is not even a table."""
    if _struct_type(tp) is None or not isinstance(raw, dict):
        walk(raw, tp, path, problems)
        return None, frozenset()
    fields = fields_of(tp)
    unknown_keys(raw, fields, path, problems)
    sound: dict[str, Any] = {}
    bad: set[str] = set()
    for name, field in fields.items():
        found: list[str] = []
        if name in raw:
            walk(raw[name], field.type, join(path, name), found)
        elif field.required:
            found.append(f"{join(path, name)}: missing required key")
        problems.extend(found)
        if found:
            bad.add(name)
        if name in raw and not found:
            sound[name] = raw[name]
        elif field.required:
            sound[name] = _placeholder(field.type)
    try:
        return msgspec.convert(sound, tp), frozenset(bad)
    except msgspec.ValidationError:  # a placeholder the type refuses: nothing more can be said
        return None, frozenset(bad)

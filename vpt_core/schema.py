"""Declared schemas for the toolkit's JSON documents, and one-line errors that name the field. Torch-free.

Each document a user could edit or damage -- a task pack's description, a
bundle's ``manifest.json``, a project's ``project.json`` -- is checked against
one schema here before any code reads it, so a wrong type anywhere is one line
such as ``manifest.json: tasks[1].file must be a relative path inside the
folder, got '../x'`` instead of a traceback somewhere later.

Schemas are built from a few node types (:class:`Text`, :class:`Whole`,
:class:`Number`, :class:`Flag`, :class:`ListOf`, :class:`MapOf`,
:class:`Record`, :class:`Anything`). Records accept keys they do not declare
(newer writers may add some); what they declare must have the declared type.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass, field
from typing import Any, Callable, Mapping, Sequence

from .errors import ConfigError, VptError
from .preprocess import CROP_MODES, INTERPOLATIONS

Problem = Callable[[Any], "str | None"]   # returns what is wrong with a value, or None


class SchemaError(VptError, ValueError):
    """A document does not match its schema; the message names the document and the field."""


def check_document(document: Any, schema: "Node", source: str, error: type[VptError] = SchemaError) -> Any:
    """``document`` if it matches ``schema``; otherwise ``error`` with one line naming ``source`` and the field."""
    problem = schema.problem(document, "")
    if problem:
        raise error(f"{source}: {problem}")
    return document


def describe(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


def _at(path: str) -> str:
    return path or "the document"


class Node:
    what = "a value"
    nullable = False

    def problem(self, value: Any, path: str) -> str | None:
        if value is None and self.nullable:
            return None
        return self._problem(value, path)

    def _problem(self, value: Any, path: str) -> str | None:
        raise NotImplementedError

    def _wrong(self, value: Any, path: str) -> str:
        return f"{_at(path)} must be {self.what}, got {describe(value)}"


@dataclass
class Anything(Node):
    nullable: bool = True

    def _problem(self, value, path):
        return None


@dataclass
class Text(Node):
    choices: Sequence[str] = ()
    check: Problem | None = None          # a further rule, e.g. "a plain name"
    nonempty: bool = False
    nullable: bool = False
    what: str = "text"

    def _problem(self, value, path):
        if not isinstance(value, str):
            return self._wrong(value, path)
        if self.choices and value not in self.choices:
            return f"{_at(path)} must be one of {', '.join(map(repr, self.choices))}, got {describe(value)}"
        if self.nonempty and not value.strip():
            return f"{_at(path)} must not be empty"
        detail = self.check(value) if self.check else None
        return f"{_at(path)} {detail}, got {describe(value)}" if detail else None


@dataclass
class Whole(Node):
    min: int | None = None
    max: int | None = None
    nullable: bool = False

    @property
    def what(self) -> str:
        return _range_words("a whole number", self.min, self.max)

    def _problem(self, value, path):
        if isinstance(value, bool) or not isinstance(value, int):
            return self._wrong(value, path)
        if (self.min is not None and value < self.min) or (self.max is not None and value > self.max):
            return self._wrong(value, path)
        return None


@dataclass
class Number(Node):
    min: float | None = None
    max: float | None = None
    above: float | None = None            # strictly greater than
    nullable: bool = False

    @property
    def what(self) -> str:
        words = _range_words("a finite number", self.min, self.max)
        return words if self.above is None else f"{words} above {self.above:g}"

    def _problem(self, value, path):
        if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
            return self._wrong(value, path)
        if ((self.min is not None and value < self.min) or (self.max is not None and value > self.max)
                or (self.above is not None and value <= self.above)):
            return self._wrong(value, path)
        return None


@dataclass
class Flag(Node):
    nullable: bool = False
    what: str = "true or false"

    def _problem(self, value, path):
        return None if isinstance(value, bool) else self._wrong(value, path)


@dataclass
class ListOf(Node):
    item: Node
    min_items: int = 0
    max_items: int | None = None
    unique_key: str | None = None          # for lists of records: this field must differ between items
    unique: bool = False                   # for lists of plain values
    casefold: bool = False                 # "OK" and "ok" count as the same (names that become folder names)
    nullable: bool = False

    @property
    def what(self) -> str:
        if self.max_items is not None and self.max_items == self.min_items:
            return f"a list of {self.min_items} items"
        return f"a list of at least {self.min_items} items" if self.min_items else "a list"

    def _problem(self, value, path):
        if not isinstance(value, list):
            return self._wrong(value, path)
        if len(value) < self.min_items or (self.max_items is not None and len(value) > self.max_items):
            return f"{_at(path)} must be {self.what}, got {len(value)}"
        for index, item in enumerate(value):
            problem = self.item.problem(item, f"{path}[{index}]")
            if problem:
                return problem
        return self._duplicate(value, path)

    def _duplicate(self, value: list, path: str) -> str | None:
        if not (self.unique or self.unique_key):
            return None
        seen: dict[Any, int] = {}
        for index, item in enumerate(value):
            key = item.get(self.unique_key) if self.unique_key else item
            key = key.casefold() if self.casefold and isinstance(key, str) else key
            if key in seen:
                where = f"{path}[{index}]" + (f".{self.unique_key}" if self.unique_key else "")
                return f"{where} repeats {describe(item.get(self.unique_key) if self.unique_key else item)} " \
                       f"(already at {path}[{seen[key]}])"
            seen[key] = index
        return None


@dataclass
class MapOf(Node):
    values: Node = field(default_factory=Anything)
    nullable: bool = False
    what: str = "a JSON object"

    def _problem(self, value, path):
        if not isinstance(value, dict):
            return self._wrong(value, path)
        for key, item in value.items():
            problem = self.values.problem(item, f"{path}.{key}" if path else str(key))
            if problem:
                return problem
        return None


@dataclass
class Record(Node):
    """A JSON object with declared fields; ``required`` lists those that must be present."""

    fields: Mapping[str, Node]
    required: Sequence[str] = ()
    nullable: bool = False
    what: str = "a JSON object"

    def _problem(self, value, path):
        if not isinstance(value, dict):
            return self._wrong(value, path)
        for name in self.required:
            if name not in value:
                return f"{path + '.' if path else ''}{name} is missing"
        for name, node in self.fields.items():
            if name in value:
                problem = node.problem(value[name], f"{path}.{name}" if path else name)
                if problem:
                    return problem
        return None


def _range_words(noun: str, low: float | None, high: float | None) -> str:
    if low is not None and high is not None:
        return f"{noun} from {low:g} to {high:g}"
    if low is not None:
        return f"{noun} of at least {low:g}"
    if high is not None:
        return f"{noun} of at most {high:g}"
    return noun


# -- rules shared by several documents -------------------------------------------------------------
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")


def relative_path_problem(value: str) -> str | None:
    """A path inside a folder: relative, forward slashes, no '..' and no empty parts."""
    parts = value.split("/")
    if (not value or value.startswith("/") or "\\" in value or ":" in parts[0] or _CONTROL.search(value)
            or any(part in ("", ".", "..") for part in parts)):
        return "must be a relative path inside the folder"
    return None


def sha256_problem(value: str) -> str | None:
    return None if re.fullmatch(r"[0-9a-f]{64}", value) else "must be a sha256 (64 lowercase hex digits)"


SHA256 = Text(check=sha256_problem)
RELATIVE_PATH = Text(check=relative_path_problem)


def whole_number_option(value: Any, option: str, minimum: int, allow_none: bool = True) -> int | None:
    """A command-line count such as ``--max-frames`` (``None``: not given); one line if it cannot work."""
    if value is None and allow_none:
        return None
    if isinstance(value, bool) or not isinstance(value, int) or value < minimum:
        raise ConfigError(f"{option} must be a whole number of at least {minimum}, got {value!r}")
    return value


# A task name becomes a file name and a URL path segment: letters, digits, '_', '-', '.', not starting with '.'.
TASK_NAME = re.compile(r"^[A-Za-z0-9_][A-Za-z0-9_.-]{0,63}$")
PLAIN_NAME_FORBIDDEN = set('/\\:*?"<>|')
PLAIN_NAME_MAX = 80


def task_name_problem(value: str) -> str | None:
    if TASK_NAME.match(value) and not value.endswith(".vptask"):
        return None
    return "must be a plain task name (letters, digits, '_', '-', '.'; at most 64 characters; no path)"


def plain_name_problem(value: str) -> str | None:
    """A name that becomes one folder name: no path, no hidden or special name, nothing invisible."""
    if not value.strip():
        return "must not be empty"
    if (value != value.strip() or value in (".", "..") or value.startswith(".")
            or PLAIN_NAME_FORBIDDEN & set(value) or _CONTROL.search(value)):
        return ("must be a plain name (no / \\ : * ? \" < > |, no control characters, no leading dot, no leading "
                "or trailing spaces)")
    if len(value) > PLAIN_NAME_MAX:
        return f"is too long ({PLAIN_NAME_MAX} characters at most)"
    return None


def _label_problem(value: str) -> str | None:
    return "must be a visible name (no control characters)" if not value.strip() or _CONTROL.search(value) else None


# -- the documents ---------------------------------------------------------------------------------
PREPROCESS = Record({
    "input_size": ListOf(Whole(min=1), min_items=3, max_items=3),
    "mean": ListOf(Number(), min_items=3, max_items=3),
    "std": ListOf(Number(above=0), min_items=3, max_items=3),
    "interpolation": Text(choices=INTERPOLATIONS, nullable=True),
    "crop_pct": Number(above=0, max=1.5, nullable=True),
    "crop_mode": Text(choices=CROP_MODES, nullable=True),
}, required=("input_size", "mean", "std"))

FINGERPRINT = Record({
    "timm_name": Text(nonempty=True), "model_kwargs": MapOf(), "weights_sha256": Text(nonempty=True),
    "embed_dim": Whole(min=1), "depth": Whole(min=1), "num_prefix_tokens": Whole(min=0),
    "num_patches": Whole(min=1), "patch_size": ListOf(Whole(min=1), min_items=2, max_items=2),
    "global_pool": Text(), "timm_version": Text(nullable=True), "weights_source": Text(nullable=True),
}, required=("timm_name", "model_kwargs", "weights_sha256", "embed_dim", "depth", "num_prefix_tokens",
             "num_patches", "patch_size", "global_pool"))

# The JSON document a task pack carries under its "vptask" metadata key.
TASK_PACK = Record({
    "format": Text(choices=("vptask",)), "format_version": Whole(min=1), "name": Text(nullable=True),
    "created": Text(nullable=True), "library": MapOf(nullable=True),
    "classes": ListOf(Text(check=_label_problem), min_items=2, unique=True),
    "backbone": FINGERPRINT, "prompt": MapOf(nullable=True), "preprocess": PREPROCESS,
    "training": MapOf(nullable=True), "metrics": MapOf(nullable=True), "extra": MapOf(nullable=True),
    "rejection": Record({"min_confidence": Number(min=0, max=1)}, nullable=True),
}, required=("format", "format_version", "classes", "backbone", "preprocess"))

_TASK_VERSION = Record({"file": RELATIVE_PATH, "sha256": SHA256}, required=("file", "sha256"))
TASK_ENTRY = Record({
    "name": Text(check=task_name_problem), "file": RELATIVE_PATH, "sha256": SHA256, "size_bytes": Whole(min=0),
    "classes": ListOf(Text()), "parity": MapOf(nullable=True), "versions": ListOf(_TASK_VERSION),
}, required=("name", "file", "sha256", "size_bytes", "classes"))

MANIFEST = Record({
    "format": Text(choices=("vpt-bundle",)), "format_version": Whole(min=1),
    "backbone": Record({"file": RELATIVE_PATH, "sha256": SHA256, "size_bytes": Whole(min=0),
                        "opset": Whole(min=1, nullable=True), "fingerprint": FINGERPRINT,
                        "fp32_nodes": ListOf(Text())}, required=("sha256", "size_bytes", "fingerprint")),
    "contract": MapOf(), "preprocess": PREPROCESS, "export": MapOf(nullable=True),
    "tasks": ListOf(TASK_ENTRY, unique_key="name"),
    "int8_cpu": Record({"file": RELATIVE_PATH, "sha256": SHA256, "agreement": MapOf(MapOf())},
                       required=("sha256",), nullable=True),
}, required=("format", "format_version", "backbone", "contract", "preprocess", "tasks"))

PROJECT = Record({
    "format": Text(choices=("vpt-project",)), "format_version": Whole(min=1), "name": Text(nullable=True),
    "created": Text(nullable=True),
    "classes": ListOf(Record({"name": Text(check=plain_name_problem), "colour": Text(nullable=True)},
                             required=("name",)), unique_key="name", casefold=True),
    "backbone": MapOf(nullable=True), "settings": MapOf(nullable=True),
}, required=("format", "classes"))

"""A simulation configuration: which model on which hardware, how (batch, precision, efficiency), at what scale
(fleet size, fabric), where (grid region) and for how long, loaded from a dict or a TOML / JSON file.

    load_config({"model": "Llama3_8B", "hardware": "H100", "batch_size": 8})
    load_config("experiment.toml")

A file holds the same keys at top level. ``model``, ``hardware``, ``fabric`` and ``region`` are registry
names, or, in a file or dict, a table written the way the catalog writes one entry (a ``[[hardware]]``
entry of catalog/hardware/*.toml, a ``[[models]]``, ``[[fabrics]]`` or ``[[grids]]`` entry) that is
validated against the catalog's JSON Schemas like a catalog file. Every error names the file and the field.
"""
from __future__ import annotations

import json
import math
import os
from pathlib import Path
from typing import Any

import attrs

from .errors import CatalogError, MlsysimError, UnsupportedPrecisionError

# The fields of a configuration and their defaults (0.1.x's SimulationConfig keys and defaults).
DEFAULTS: dict[str, Any] = {"batch_size": 1, "precision": "fp16", "efficiency": 0.5, "fleet_size": 1,
                            "fabric": "100GbE", "region": "US_Avg", "duration_days": 30.0}
REQUIRED = ("model", "hardware")
FIELDS = REQUIRED + tuple(DEFAULTS)
# Largest configuration file read (bytes): a configuration with a few inline catalog entries is a few KiB.
MAX_FILE_BYTES = 1 << 20

# field -> (catalog table an inline entry is written as, registry root of names, spec class name, what it is)
_REFERENCES = {
    "model": ("models", "Models", "ModelSpec", "a model"),
    "hardware": ("hardware", "Hardware", "HardwareSpec", "hardware"),
    "fabric": ("fabrics", "Systems", "FabricSpec", "a network fabric"),
    "region": ("grids", "Infra", "GridSpec", "a grid region"),
}


class ConfigError(CatalogError):
    """A configuration (dict or file) that cannot be used; the message names the file and the field."""


def _spec_class(name: str) -> type:
    from . import specs

    return getattr(specs, name)


def _reference(field: str, value: Any, label: str | None) -> Any:
    """The spec a reference field names (a registry name, an inline catalog entry, or a spec)."""
    table, root, class_name, what = _REFERENCES[field]
    cls = _spec_class(class_name)
    if isinstance(value, cls):
        return value
    if isinstance(value, dict):
        from .catalog.loader import build_spec

        spec = build_spec(table, value, label=f"{label or '<config>'} [{field}]")
        if not isinstance(spec, cls):
            raise ConfigError(f"the inline entry is a {type(spec).__name__}", file=label, field=field,
                              expected=what)
        return spec
    if isinstance(value, str):
        from .registry import registries

        try:
            spec = registries().roots[root].get(value)
        except MlsysimError as exc:
            raise ConfigError(str(exc), file=label, field=field,
                              expected=f"a {root} registry name of {what}") from None
        if not isinstance(spec, cls):
            raise ConfigError(f"{value!r} is a {type(spec).__name__}, not {what}", file=label, field=field,
                              expected=f"a {root} registry name of {what}")
        return spec
    raise ConfigError(f"got {type(value).__name__} {value!r}", file=label, field=field,
                      expected=f"a {root} registry name, an inline [{table}] entry or a {class_name}")


def _count(field: str, value: Any, label: str | None) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise ConfigError(f"got {value!r}", file=label, field=field, expected="a positive integer")
    return value


def _positive(field: str, value: Any, label: str | None) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value) or value <= 0:
        raise ConfigError(f"got {value!r}", file=label, field=field, expected="a positive finite number")
    return float(value)


@attrs.frozen(kw_only=True)
class SimulationConfig:
    """A validated configuration. `model`, `hardware`, `fabric` and `region` keep what was given (a name, a
    spec); `model_obj`, `hardware_obj`, `fabric_obj`, `grid_obj` are the specs they resolve to.

    Validation: every reference resolves to an entry of the right kind, counts are positive integers,
    `efficiency` is in (0, 1] or None (the hardware's calibrated value), `duration_days` is positive, the
    precision runs on the hardware, and the model's weights alone fit the device (its flash on a
    microcontroller): a configuration that cannot even hold its weights is refused, as 0.1.x refused it.
    """

    model: Any
    hardware: Any
    batch_size: int = DEFAULTS["batch_size"]
    precision: str = DEFAULTS["precision"]
    efficiency: float | None = DEFAULTS["efficiency"]
    fleet_size: int = DEFAULTS["fleet_size"]
    fabric: Any = DEFAULTS["fabric"]
    region: Any = DEFAULTS["region"]
    duration_days: float = DEFAULTS["duration_days"]
    source: str | None = attrs.field(default=None, eq=False)  # the file it was loaded from, if any

    def __attrs_post_init__(self) -> None:
        label = self.source
        for field in _REFERENCES:
            _reference(field, getattr(self, field), label)
        _count("batch_size", self.batch_size, label)
        _count("fleet_size", self.fleet_size, label)
        _positive("duration_days", self.duration_days, label)
        if not isinstance(self.precision, str):
            raise ConfigError(f"got {self.precision!r}", file=label, field="precision",
                              expected="a precision name such as 'fp16', 'bf16', 'int8'")
        from .core.inputs import check_efficiency

        try:
            check_efficiency(self.efficiency)
        except MlsysimError as exc:
            raise ConfigError(str(exc), file=label, field="efficiency") from None
        self._check_weights_fit(label)

    def _check_weights_fit(self, label: str | None) -> None:
        try:
            profile = self.solve()
        except MlsysimError as exc:
            field = "precision" if isinstance(exc, UnsupportedPrecisionError) else None
            raise ConfigError(str(exc), file=label, field=field) from None
        m = profile.memory
        store, where = (m.weights_capacity, "flash") if m.weights_capacity is not None else (m.capacity, "memory")
        if m.weights > store:
            from .core.formatting import human
            from .units import quantity

            raise ConfigError(f"infeasible: the weights of {self.model_obj.name} at {self.precision} "
                              f"({human(quantity(m.weights, 'B'))}) exceed the {human(quantity(store, 'B'))} "
                              f"{where} of {self.hardware_obj.name}", file=label, field="model",
                              expected="a model whose weights fit the hardware, or a smaller precision")

    @property
    def model_obj(self) -> Any:
        return _reference("model", self.model, self.source)

    @property
    def hardware_obj(self) -> Any:
        return _reference("hardware", self.hardware, self.source)

    @property
    def fabric_obj(self) -> Any:
        return _reference("fabric", self.fabric, self.source)

    @property
    def grid_obj(self) -> Any:
        return _reference("region", self.region, self.source)

    def solve(self, **options: Any) -> Any:
        """Engine.solve of this configuration (one device); `options` are Engine.solve's keyword options."""
        from .core.engine import Engine

        return Engine.solve(self.model_obj, self.hardware_obj, self.batch_size, self.precision, self.efficiency,
                            **options)

    def to_dict(self) -> dict[str, Any]:
        """The configuration's keys; a reference given as a spec is written as its name."""
        out = {}
        for field in FIELDS:
            value = getattr(self, field)
            out[field] = value.name if hasattr(value, "name") and not isinstance(value, (str, dict)) else value
        return out


def _read_file(path: Path) -> dict[str, Any]:
    label = str(path)
    suffix = path.suffix.lower()
    if suffix not in (".toml", ".json"):
        raise ConfigError(f"unsupported file type {path.suffix or '(none)'!r}", file=label,
                          expected="a .toml or .json file")
    try:
        with open(path, "rb") as f:
            data = f.read(MAX_FILE_BYTES + 1)
    except OSError as exc:
        raise ConfigError(f"cannot read: {exc.strerror or exc}", file=label) from None
    if len(data) > MAX_FILE_BYTES:
        raise ConfigError(f"larger than {MAX_FILE_BYTES} bytes", file=label, expected="a configuration file")
    if suffix == ".toml":
        from .catalog.validate import parse_toml

        try:
            doc = parse_toml(data, label)
        except CatalogError as exc:
            raise ConfigError(exc.message, file=label, expected=exc.expected) from None
    else:
        try:
            doc = json.loads(data.decode("utf-8"))
        except UnicodeDecodeError as exc:
            raise ConfigError(f"not UTF-8 text: {exc}", file=label) from None
        except json.JSONDecodeError as exc:
            raise ConfigError(f"JSON syntax error: {exc.msg} at line {exc.lineno} column {exc.colno}",
                              file=label, expected="valid JSON (RFC 8259)") from None
        except RecursionError:
            raise ConfigError("nested too deeply", file=label) from None
    if not isinstance(doc, dict):
        raise ConfigError(f"the top level is a {type(doc).__name__}", file=label,
                          expected=f"a table of the keys {', '.join(FIELDS)}")
    return doc


def load_config(data: Any) -> SimulationConfig:
    """A validated SimulationConfig from a dict (0.1.x's call) or from a path to a .toml / .json file."""
    label = None
    if isinstance(data, (str, os.PathLike)):
        path = Path(data)
        label = str(path)
        data = _read_file(path)
    if not isinstance(data, dict):
        raise ConfigError(f"got {type(data).__name__}", expected="a dict of configuration keys or a path to a "
                                                                 ".toml / .json file")
    unknown = sorted(str(k) for k in data if k not in FIELDS)
    if unknown:
        raise ConfigError(f"unknown key{'s' if len(unknown) > 1 else ''} {', '.join(map(repr, unknown))}",
                          file=label, field=unknown[0], expected=f"only the keys {', '.join(FIELDS)}")
    missing = [k for k in REQUIRED if k not in data]
    if missing:
        raise ConfigError("required key is missing", file=label, field=missing[0],
                          expected=f"{' and '.join(REQUIRED)} (registry names or inline catalog entries)")
    return SimulationConfig(**data, source=label)

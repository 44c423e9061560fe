"""Pipelines as config: load, validate and resolve ``configs/**/*.yml``.

Every problem is a ConfigError naming the file and the field path (``steps[1].ps_type``) and is
raised before anything runs. Processor ``config`` blocks are validated by the processor's own
pydantic model, so unknown keys there are caught too.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any, Literal

import yaml
from croniter import croniter
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from focusline.errors import ConfigError
from focusline.settings import DEFAULT_PIPELINE_TIMEOUT_MINUTES, DEFAULT_STEP_TIMEOUT_SECONDS
from orchestrator.registry import Registry

TEMPLATE = re.compile(r"\$\{([^}]*)\}")
BUILTIN_VARIABLES = frozenset(
    {"org_slug", "start_date", "end_date", "run_id", "credential_id", "pipeline_id", "org_dataset"}
)
_ID = r"^[a-z][a-z0-9_]{0,62}$"


class RetryPolicy(BaseModel):
    model_config = ConfigDict(extra="forbid")

    max_attempts: int = Field(default=1, ge=1, le=10)
    backoff_seconds: float = Field(default=5.0, ge=0, le=3600)


class StepConfig(BaseModel):
    model_config = ConfigDict(extra="forbid")

    step_id: str = Field(pattern=_ID)
    ps_type: str
    depends_on: list[str] = Field(default_factory=list)
    trigger: Literal["on_success", "on_failure", "always"] = "on_success"
    timeout_seconds: int = Field(default=DEFAULT_STEP_TIMEOUT_SECONDS, gt=0, le=24 * 3600)
    retry: RetryPolicy = Field(default_factory=RetryPolicy)
    config: dict[str, Any] = Field(default_factory=dict)


class PipelineConfig(BaseModel):
    model_config = ConfigDict(extra="forbid")

    pipeline_id: str = Field(pattern=_ID)
    name: str = Field(min_length=1)
    provider: str = Field(min_length=1)
    domain: str = Field(min_length=1)
    version: str = Field(min_length=1)
    description: str | None = None
    timeout_minutes: int = Field(default=DEFAULT_PIPELINE_TIMEOUT_MINUTES, gt=0, le=24 * 60)
    schedule: str | None = None
    variables: dict[str, str | int | float | bool] = Field(default_factory=dict)
    steps: list[StepConfig] = Field(min_length=1)

    @field_validator("schedule")
    @classmethod
    def _valid_cron(cls, value: str | None) -> str | None:
        if value is not None and not croniter.is_valid(value):
            raise ValueError(f"not a valid cron expression: {value!r}")
        return value

    @field_validator("variables")
    @classmethod
    def _no_builtin_override(cls, value: dict[str, Any]) -> dict[str, Any]:
        clash = sorted(set(value) & BUILTIN_VARIABLES)
        if clash:
            raise ValueError(f"variables may not redefine built-in names {clash}")
        bad = sorted(k for k in value if not re.fullmatch(_ID, k))
        if bad:
            raise ValueError(f"variable names must match {_ID}: {bad}")
        return value


class Pipeline(BaseModel):
    """A validated pipeline: its file, its config, and each step's typed processor config."""

    model_config = ConfigDict(arbitrary_types_allowed=True)

    name: str  # path under configs/ without .yml, e.g. genai/payg/openai
    file: Path
    config: PipelineConfig
    step_configs: dict[str, BaseModel]

    @property
    def pipeline_id(self) -> str:
        return self.config.pipeline_id


def _field_path(loc: tuple[int | str, ...]) -> str:
    path = ""
    for part in loc:
        path += f"[{part}]" if isinstance(part, int) else (f".{part}" if path else str(part))
    return path


def _first_error(exc: ValidationError, file: str, prefix: tuple[int | str, ...] = ()) -> ConfigError:
    errors = exc.errors()
    err = errors[0]
    loc = (*prefix, *err["loc"])
    message = err["msg"]
    if err["type"] == "extra_forbidden":
        message = "unknown key"
    elif err["type"] == "missing":
        message = "required field is missing"
    more = f" (and {len(errors) - 1} more problem(s))" if len(errors) > 1 else ""
    return ConfigError(f"{message}{more}", file=file, field=_field_path(loc))


def _walk_strings(value: Any, loc: tuple[int | str, ...]) -> Iterator[tuple[tuple[int | str, ...], str]]:
    if isinstance(value, str):
        yield loc, value
    elif isinstance(value, Mapping):
        for key, item in value.items():
            yield from _walk_strings(item, (*loc, str(key)))
    elif isinstance(value, list):
        for index, item in enumerate(value):
            yield from _walk_strings(item, (*loc, index))


def _check_dag(config: PipelineConfig, file: str) -> None:
    ids = [s.step_id for s in config.steps]
    seen: set[str] = set()
    for index, step_id in enumerate(ids):
        if step_id in seen:
            raise ConfigError(f"duplicate step_id {step_id!r}", file=file, field=f"steps[{index}].step_id")
        seen.add(step_id)
    for index, step in enumerate(config.steps):
        for dep_index, dep in enumerate(step.depends_on):
            if dep not in seen:
                raise ConfigError(
                    f"depends on unknown step {dep!r} (steps: {', '.join(ids)})",
                    file=file,
                    field=f"steps[{index}].depends_on[{dep_index}]",
                )
            if dep == step.step_id:
                raise ConfigError("a step cannot depend on itself", file=file, field=f"steps[{index}].depends_on")
    # cycle detection (iterative DFS with colours), reporting the cycle path
    deps = {s.step_id: s.depends_on for s in config.steps}
    index_of = {s: i for i, s in enumerate(ids)}
    state: dict[str, int] = {}
    for root in ids:
        if state.get(root):
            continue
        stack: list[tuple[str, Iterator[str]]] = [(root, iter(deps[root]))]
        path = [root]
        state[root] = 1
        while stack:
            node, children = stack[-1]
            child = next(children, None)
            if child is None:
                state[node] = 2
                stack.pop()
                path.pop()
            elif state.get(child) == 1:
                cycle = [*path[path.index(child) :], child]
                raise ConfigError(
                    f"cycle in depends_on: {' -> '.join(cycle)}",
                    file=file,
                    field=f"steps[{index_of[node]}].depends_on",
                )
            elif not state.get(child):
                state[child] = 1
                path.append(child)
                stack.append((child, iter(deps[child])))


def parse_pipeline(file: Path, name: str, registry: Registry) -> Pipeline:
    """Load and validate one pipeline file; raise ConfigError naming file and field."""
    shown = str(file)
    try:
        raw = yaml.safe_load(file.read_text(encoding="utf-8"))
    except OSError as exc:
        raise ConfigError(f"cannot read: {exc.strerror}", file=shown) from None
    except yaml.YAMLError as exc:
        raise ConfigError(f"not valid YAML: {exc}", file=shown) from None
    if not isinstance(raw, dict):
        raise ConfigError("must be a mapping with pipeline_id, name, steps ...", file=shown)
    try:
        config = PipelineConfig.model_validate(raw)
    except ValidationError as exc:
        raise _first_error(exc, shown) from None
    _check_dag(config, shown)
    known_vars = BUILTIN_VARIABLES | set(config.variables)
    step_configs: dict[str, BaseModel] = {}
    for index, step in enumerate(config.steps):
        processor = registry.get(step.ps_type)
        if processor is None:
            raise ConfigError(
                f"unknown ps_type {step.ps_type!r} (known: {', '.join(registry.names())})",
                file=shown,
                field=f"steps[{index}].ps_type",
            )
        for loc, text in _walk_strings(step.config, (f"steps[{index}]", "config")):
            for match in TEMPLATE.finditer(text):
                if match.group(1) not in known_vars:
                    raise ConfigError(
                        f"unknown variable ${{{match.group(1)}}} (known: {', '.join(sorted(known_vars))})",
                        file=shown,
                        field=_field_path(loc),
                    )
        try:
            step_configs[step.step_id] = processor.config_model.model_validate(step.config)
        except ValidationError as exc:
            raise _first_error(exc, shown, (f"steps[{index}]", "config")) from None
    return Pipeline(name=name, file=file, config=config, step_configs=step_configs)


def pipeline_files(configs_dir: Path) -> list[tuple[str, Path]]:
    """Every pipeline file under ``configs_dir`` as (name, path); ``system/`` holds no pipelines."""
    found = []
    for path in sorted(configs_dir.rglob("*.yml")):
        rel = path.relative_to(configs_dir)
        if rel.parts[0] == "system":
            continue
        found.append((rel.with_suffix("").as_posix(), path))
    return found


def load_pipeline(configs_dir: Path, name: str, registry: Registry) -> Pipeline:
    """Load the pipeline ``name`` (path under configs/ without .yml)."""
    if not re.fullmatch(r"[a-z0-9_]+(/[a-z0-9_]+)*", name):
        raise ConfigError(f"invalid pipeline name {name!r}: use a path like genai/payg/openai")
    path = configs_dir / f"{name}.yml"
    if not path.is_file():
        known = ", ".join(n for n, _ in pipeline_files(configs_dir)) or "none"
        raise ConfigError(f"no pipeline {name!r} under {configs_dir} (known: {known})")
    return parse_pipeline(path, name, registry)


def validate_all(configs_dir: Path, registry: Registry) -> tuple[list[Pipeline], list[ConfigError]]:
    pipelines: list[Pipeline] = []
    errors: list[ConfigError] = []
    ids: dict[str, Path] = {}
    for name, path in pipeline_files(configs_dir):
        try:
            pipeline = parse_pipeline(path, name, registry)
        except ConfigError as exc:
            errors.append(exc)
            continue
        if pipeline.pipeline_id in ids:
            errors.append(
                ConfigError(
                    f"pipeline_id {pipeline.pipeline_id!r} is also used by {ids[pipeline.pipeline_id]}",
                    file=str(path),
                    field="pipeline_id",
                )
            )
            continue
        ids[pipeline.pipeline_id] = path
        pipelines.append(pipeline)
    return pipelines, errors


def resolve_templates(value: Any, variables: Mapping[str, Any]) -> Any:
    """Substitute ``${name}`` in every string of a config value (names were checked at load)."""
    if isinstance(value, str):
        return TEMPLATE.sub(lambda m: str(variables[m.group(1)]), value)
    if isinstance(value, Mapping):
        return {k: resolve_templates(v, variables) for k, v in value.items()}
    if isinstance(value, list):
        return [resolve_templates(v, variables) for v in value]
    return value

"""Pipelines as config: every problem is refused before anything runs, naming file and field."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml
from click.testing import CliRunner

from focusline.errors import ConfigError
from orchestrator.config import load_pipeline, validate_all
from orchestrator.registry import default_registry
from run import cli

GOOD = {
    "pipeline_id": "demo_pipe",
    "name": "Demo",
    "provider": "openai",
    "domain": "payg",
    "version": "1.0",
    "variables": {"lookback_days": 2},
    "steps": [
        {"step_id": "a", "ps_type": "genai.payg_usage", "config": {"provider": "openai"}},
        {"step_id": "b", "ps_type": "genai.payg_billed_cost", "config": {"provider": "openai"}},
        {"step_id": "c", "ps_type": "dbt.build", "depends_on": ["a", "b"], "config": {"select": "${org_slug}"}},
    ],
}


def write(configs: Path, body: dict, name: str = "test/pipe") -> Path:
    path = configs / f"{name}.yml"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(yaml.safe_dump(body), encoding="utf-8")
    return path


def error_for(configs: Path, body: dict) -> ConfigError:
    path = write(configs, body)
    with pytest.raises(ConfigError) as info:
        load_pipeline(configs, "test/pipe", default_registry())
    assert str(path) in str(info.value)
    return info.value


def mutate(**changes: object) -> dict:
    body = yaml.safe_load(yaml.safe_dump(GOOD))
    body.update(changes)
    return body


def test_repository_configs_are_valid():
    pipelines, errors = validate_all(Path("configs"), default_registry())
    assert errors == []
    assert "genai/payg/openai" in {p.name for p in pipelines}


def test_good_config_loads(tmp_path):
    write(tmp_path, GOOD)
    pipeline = load_pipeline(tmp_path, "test/pipe", default_registry())
    assert [s.step_id for s in pipeline.config.steps] == ["a", "b", "c"]
    assert pipeline.config.steps[0].timeout_seconds == 600  # default 10 minutes
    assert pipeline.config.timeout_minutes == 30


def test_cycle_names_file_and_field(tmp_path):
    body = mutate()
    body["steps"][0]["depends_on"] = ["c"]
    err = error_for(tmp_path, body)
    assert err.field == "steps[0].depends_on" or err.field.startswith("steps[")
    assert ("cycle" in err.reason and "a -> c -> a" in err.reason) or "c -> a -> c" in err.reason


def test_unknown_ps_type(tmp_path):
    body = mutate()
    body["steps"][1]["ps_type"] = "genai.nope"
    err = error_for(tmp_path, body)
    assert err.field == "steps[1].ps_type"
    assert "unknown ps_type 'genai.nope'" in err.reason


def test_unknown_variable(tmp_path):
    body = mutate()
    body["steps"][2]["config"]["select"] = "${org_slgu}+"
    err = error_for(tmp_path, body)
    assert err.field == "steps[2].config.select"
    assert "${org_slgu}" in err.reason


def test_pipeline_variables_are_known(tmp_path):
    body = mutate()
    body["steps"][2]["config"]["select"] = "tag:${lookback_days}"
    write(tmp_path, body)
    load_pipeline(tmp_path, "test/pipe", default_registry())


@pytest.mark.parametrize(
    ("change", "field", "words"),
    [
        ({"unexpected": 1}, "unexpected", "unknown key"),
        ({"timeout_minutes": "soon"}, "timeout_minutes", "integer"),
        ({"schedule": "every day"}, "schedule", "cron"),
        ({"steps": []}, "steps", "at least 1"),
    ],
)
def test_top_level_problems(tmp_path, change, field, words):
    err = error_for(tmp_path, mutate(**change))
    assert err.field == field
    assert words in err.reason


def test_missing_field(tmp_path):
    body = mutate()
    del body["name"]
    err = error_for(tmp_path, body)
    assert (err.field, err.reason) == ("name", "required field is missing")


def test_step_level_problems(tmp_path):
    body = mutate()
    body["steps"][0]["retry"] = {"max_attempts": 3, "backof_seconds": 1}
    assert error_for(tmp_path, body).field == "steps[0].retry.backof_seconds"
    body = mutate()
    body["steps"][0]["config"]["endpoints"] = ["completions", "telepathy"]
    assert error_for(tmp_path, body).field == "steps[0].config.endpoints[1]"
    body = mutate()
    body["steps"][1]["config"]["colour"] = "blue"
    err = error_for(tmp_path, body)
    assert (err.field, err.reason) == ("steps[1].config.colour", "unknown key")


def test_dangling_and_duplicate_steps(tmp_path):
    body = mutate()
    body["steps"][2]["depends_on"] = ["a", "z"]
    err = error_for(tmp_path, body)
    assert err.field == "steps[2].depends_on[1]" and "unknown step 'z'" in err.reason
    body = mutate()
    body["steps"][1]["step_id"] = "a"
    assert error_for(tmp_path, body).field == "steps[1].step_id"


def test_cli_validate_exits_78_naming_file_and_field(configs_copy):
    body = mutate()
    body["steps"][1]["ps_type"] = "genai.nope"
    path = write(configs_copy, body)
    result = CliRunner().invoke(cli, ["pipelines", "validate"])
    assert result.exit_code == 78
    assert f"{path}: steps[1].ps_type: unknown ps_type 'genai.nope'" in result.output
    assert "ok       genai/payg/openai" in result.output


def test_cli_run_refuses_bad_config_before_anything_runs(configs_copy, env, store):
    body = mutate()
    body["steps"][0]["config"]["provider"] = "${nope}"
    write(configs_copy, body)
    store.create_org("org_bad_cfg")
    result = CliRunner().invoke(cli, ["run", "org_bad_cfg", "test/pipe"])
    assert result.exit_code == 78, result.output
    assert "steps[0].config.provider" in result.output and "${nope}" in result.output
    assert store.list_runs("org_bad_cfg") == []  # nothing recorded
    assert store.quota_usage("org_bad_cfg")["runs_today"] == 0  # nothing reserved
    assert not (env / "warehouse").exists()

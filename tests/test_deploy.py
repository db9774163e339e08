"""The deployment files (Dockerfile, Dockerfile.worker, compose.yaml) and the operator's guide
(docs/operations.md, docs/grafana/reactclip.json), checked against the code they describe.

No container runs on these machines, so what is checked is what the files say, against the real
objects: every command a container runs is a ``reactclip`` subcommand that parses its options
(typer's own click command), every ``REACTCLIP_`` variable is a settings field (the settings walked
as pydantic-settings reads them) whose value validates, no secret is written down, the ports and
health checks are the monitoring server's (the HEALTHCHECK command runs against a real
MonitoringServer), a worker's stop grace outlasts its own, and the metrics that the docs, the alert
rules and the dashboard name are the metrics the code registers, all of them.
"""

from __future__ import annotations

import asyncio
import dataclasses
import importlib
import json
import re
import shlex
import subprocess
import sys
import tomllib
import types
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Union, get_args, get_origin
from urllib.parse import urlparse

import pytest
import typer
import typer.main
import yaml
from prometheus_client import REGISTRY
from prometheus_client.metrics import MetricWrapperBase
from pydantic import BaseModel, SecretStr

import reactclip.bot.metrics as bot_metrics
import reactclip.engine.metrics as engine_metrics
from reactclip.bot import cli
from reactclip.bot import settings as settings_module
from reactclip.bot.monitoring import MonitoringServer
from reactclip.bot.settings import CONFIG_ENV, SHORT_NAMES, MonitoringSettings, Settings
from reactclip.engine.backends.sticker import StickerBackend
from reactclip.engine.executor import InProcessExecutor
from reactclip.engine.metrics import ExecutorCollector
from reactclip.engine.settings import DistributedSettings

ROOT = Path(__file__).resolve().parent.parent
COMPOSE_FILE = ROOT / "compose.yaml"
OPERATIONS = ROOT / "docs" / "operations.md"
DASHBOARD = ROOT / "docs" / "grafana" / "reactclip.json"
DOCKERFILES = (ROOT / "Dockerfile", ROOT / "Dockerfile.worker")

VARIABLE = re.compile(r"\bREACTCLIP_[A-Z0-9_]*[A-Z0-9]")
INTERPOLATION = re.compile(r"\$\{(?P<name>\w+)(?:(?P<op>:?[-?])(?P<arg>[^}]*))?\}")
METRIC = re.compile(r"\breactclip_[a-z0-9_]*[a-z0-9]")
PORT_SETTING = {"run": "bot_port", "worker": "worker_port"}
"""The MonitoringSettings field that holds each serving command's default port."""
STOP_MARGIN_S = 10
"""What a stopping worker needs past its stop grace: arq cancels and re-queues what it still holds
(a GPU call ends at its next step at the earliest), and the worker says goodbye on Redis."""


# The Dockerfiles.


@dataclass(frozen=True)
class Dockerfile:
    path: Path
    instructions: tuple[tuple[str, str], ...]

    @classmethod
    def read(cls, path: Path) -> Dockerfile:
        """Instructions with their continuation lines joined; comments and blank lines dropped."""
        found: list[tuple[str, str]] = []
        pending = ""
        for raw in path.read_text().splitlines():
            line = raw.strip()
            if not line or line.startswith("#"):
                continue
            if line.endswith("\\"):
                pending += line[:-1] + " "
                continue
            keyword, _, rest = (pending + line).partition(" ")
            found.append((keyword.upper(), rest.strip()))
            pending = ""
        assert not pending, f"{path.name} ends in a continuation line"
        return cls(path, tuple(found))

    def last(self, keyword: str) -> str | None:
        """The instruction's argument; Docker uses the last one of CMD, ENTRYPOINT and the like."""
        values = [rest for name, rest in self.instructions if name == keyword]
        return values[-1] if values else None

    def exec_form(self, keyword: str) -> list[str] | None:
        value = self.last(keyword)
        if value is None:
            return None
        parsed = json.loads(value)  # the exec form: a shell form would run through /bin/sh
        assert isinstance(parsed, list) and all(isinstance(arg, str) for arg in parsed), value
        return parsed

    @property
    def env(self) -> dict[str, str]:
        env: dict[str, str] = {}
        for name, rest in self.instructions:
            if name != "ENV":
                continue
            tokens = shlex.split(rest)
            if "=" not in tokens[0]:  # the legacy form: ENV NAME value
                env[tokens[0]] = rest.partition(" ")[2].strip()
                continue
            for token in tokens:
                key, _, value = token.partition("=")
                env[key] = value
        return env

    @property
    def exposed(self) -> set[int]:
        return {
            int(port.split("/")[0])
            for name, rest in self.instructions
            if name == "EXPOSE"
            for port in rest.split()
        }

    @property
    def healthcheck(self) -> list[str]:
        value = self.last("HEALTHCHECK")
        assert value is not None, f"{self.path.name} has no HEALTHCHECK"
        _, found, command = value.partition("CMD ")
        assert found, f"{self.path.name}: HEALTHCHECK without CMD"
        parsed = json.loads(command)
        assert isinstance(parsed, list)
        return parsed

    @property
    def health_url(self) -> tuple[str, int, str]:
        """Host, port and path of the URL the health check fetches."""
        [url] = re.findall(r"https?://[^\s'\"]+", " ".join(self.healthcheck))
        parsed = urlparse(url)
        assert parsed.hostname is not None and parsed.port is not None, url
        return parsed.hostname, parsed.port, parsed.path


def dockerfile(path: Path) -> Dockerfile:
    return Dockerfile.read(path)


# compose.yaml.


def compose() -> dict[str, Any]:
    loaded = yaml.safe_load(COMPOSE_FILE.read_text())
    assert isinstance(loaded, dict)
    return loaded


SERVICES: dict[str, Any] = compose()["services"]
BUILT = sorted(name for name, service in SERVICES.items() if "build" in service)
WORKERS = sorted(name for name in BUILT if (SERVICES[name].get("command") or ["worker"])[0] == "worker")


def image_of(service: dict[str, Any]) -> Dockerfile:
    build = service["build"]
    context, name = (
        (build, "Dockerfile") if isinstance(build, str) else (build["context"], build["dockerfile"])
    )
    return dockerfile(ROOT / context / name)


def argv_of(service: dict[str, Any]) -> tuple[list[str], list[str]]:
    """The entrypoint and the command a service's container runs (compose's, else the image's)."""
    image = image_of(service)

    def listed(value: Any) -> list[str]:
        return shlex.split(value) if isinstance(value, str) else list(value)

    entrypoint = listed(service["entrypoint"]) if "entrypoint" in service else image.exec_form("ENTRYPOINT")
    command = listed(service["command"]) if "command" in service else image.exec_form("CMD")
    assert entrypoint is not None and command is not None
    return entrypoint, command


def required_host_env() -> dict[str, str]:
    """A value for each variable compose.yaml requires from the host (``${NAME:?...}``)."""
    text = COMPOSE_FILE.read_text()
    return {m["name"]: f"test-value-of-{m['name']}" for m in INTERPOLATION.finditer(text) if m["op"] == ":?"}


def interpolate(value: str, host: dict[str, str]) -> str:
    """Compose's ``${NAME}``, ``${NAME:-default}`` and ``${NAME:?error}`` against ``host``."""

    def substitute(match: re.Match[str]) -> str:
        name, op, arg = match["name"], match["op"], match["arg"]
        found = host.get(name)
        if op in (":-", "-"):
            return found if found or (op == "-" and name in host) else arg
        if op in (":?", "?"):
            assert found, f"compose needs {name} from the host: {arg}"
        return found or ""

    return INTERPOLATION.sub(substitute, value)


def service_env(name: str, *, host: dict[str, str] | None = None) -> dict[str, str]:
    """What a service's process sees: the image's ENV, then compose's environment, interpolated."""
    service = SERVICES[name]
    raw = service.get("environment") or {}
    if isinstance(raw, list):
        raw = dict(item.partition("=")[::2] for item in raw)
    values = {key: "" if value is None else str(value) for key, value in raw.items()}
    if host is not None:
        values = {key: interpolate(value, host) for key, value in values.items()}
    return image_of(service).env | values


# The CLI and the settings.


def root_command() -> Any:
    """The click group typer builds for ``reactclip`` (typer 0.29 ships its own copy of click)."""
    command = typer.main.get_command(cli.app)
    assert isinstance(command.commands, dict)  # a group: its subcommands by name
    return command


def cli_envvars() -> dict[str, tuple[str | None, str]]:
    """Every variable a CLI option reads (``--log-format``: REACTCLIP_LOG_FORMAT): the subcommand
    the option belongs to (None: the root, before any subcommand) and the parameter's name."""
    root = root_command()
    commands: list[tuple[str | None, Any]] = [(None, root), *root.commands.items()]
    return {
        envvar: (owner, param.name)
        for owner, command in commands
        for param in command.params
        for envvar in ([param.envvar] if isinstance(param.envvar, str) else param.envvar or [])
    }


def option_from_env(variable: str) -> Any:
    """The value the CLI takes for the option that reads ``variable`` from the environment now
    (click validates it as it would at start-up)."""
    owner, name = cli_envvars()[variable]
    root = root_command()
    if owner is None:
        context = root.make_context("reactclip", [next(iter(root.commands))])
    else:
        context = root.commands[owner].make_context(f"reactclip {owner}", [])
    return context.params[name]


def check_invocation(args: list[str]) -> Any:
    """``reactclip ARGS`` names a subcommand and gives it options it has, with values it accepts
    (click parses them as the CLI would, without running the command)."""
    root = root_command()
    assert args, "no subcommand"
    name, *rest = args
    assert name in root.commands, f"{name!r} is not a reactclip subcommand ({', '.join(root.commands)})"
    command = root.commands[name]
    known = {opt for param in command.params for opt in (*param.opts, *param.secondary_opts)}
    for token in rest:
        if token.startswith("-"):
            assert token.partition("=")[0] in known, f"reactclip {name} has no option {token}"
    return command.make_context(f"reactclip {name}", list(rest))


def section(annotation: Any) -> type[BaseModel] | None:
    """The nested model a field holds (a settings section), else None."""
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return annotation
    if get_origin(annotation) in (Union, types.UnionType):
        models = [arg for arg in get_args(annotation) if section(arg) is not None]
        return section(models[0]) if len(models) == 1 else None
    return None


def settings_path(variable: str) -> tuple[str, ...] | None:
    """The field a variable sets, as pydantic-settings reads it (prefix, ``__`` between sections,
    case-insensitive), or None when it sets nothing."""
    prefix = str(Settings.model_config["env_prefix"])
    delimiter = str(Settings.model_config["env_nested_delimiter"])
    if not variable.upper().startswith(prefix.upper()):
        return None
    model: type[BaseModel] | None = Settings
    path: list[str] = []
    for part in variable[len(prefix) :].lower().split(delimiter):
        if model is None:  # the previous part was a plain field, not a section
            return None
        fields = {name.lower(): (name, info) for name, info in model.model_fields.items()}
        if part not in fields:
            return None
        name, info = fields[part]
        path.append(name)
        model = section(info.annotation)
    return tuple(path)


def outside_settings() -> set[str]:
    """Variables read outside the settings walk: the CLI options' and the config file's, and the
    short names Settings maps itself."""
    return {*cli_envvars(), CONFIG_ENV, *SHORT_NAMES}


def known_variable(variable: str) -> bool:
    return variable in outside_settings() or settings_path(variable) is not None


def rendered(value: Any) -> str:
    if isinstance(value, SecretStr):
        return value.get_secret_value()
    if isinstance(value, bool):
        return str(value).lower()
    return "" if value is None else str(value)


@pytest.fixture
def no_config_file(clean_env: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """No REACTCLIP_ variable and no config file of this machine's (clean_env, plus the default
    config path, which was resolved at import)."""
    monkeypatch.setattr(settings_module, "DEFAULT_CONFIG_PATH", clean_env / "absent.toml")
    return clean_env


# Metrics.


@dataclass(frozen=True)
class Family:
    name: str
    type: str
    labels: frozenset[str]

    @property
    def documented_name(self) -> str:
        """How the docs name it: as exposed for counters and gauges, bare for histograms."""
        return f"{self.name}_total" if self.type == "counter" else self.name

    @property
    def series(self) -> set[str]:
        """The names PromQL can select (prometheus-client's ``_created`` series aside)."""
        if self.type == "counter":
            return {f"{self.name}_total"}
        if self.type == "histogram":
            return {f"{self.name}_{suffix}" for suffix in ("bucket", "sum", "count")}
        return {self.name}


class WithWorkers:
    """A real executor's stats with what only a distributed client reports (its workers) and an
    A/B run's counts, so that every family the collector can yield shows, with its labels."""

    def __init__(self, executor: InProcessExecutor) -> None:
        self._executor = executor

    def stats(self) -> Any:
        return dataclasses.replace(
            self._executor.stats(),
            workers={"gpu-host-4242-abcdef": 1.5},
            assigned={"wan-a": 3},
            variants={"wan-a": 2},
        )


def collector_families() -> tuple[set[str], dict[str, Family]]:
    """The ExecutorCollector's families on a real in-process executor (the sticker backend): the
    names it yields as is, and every family with the distributed and A/B ones added."""

    async def collect() -> tuple[set[str], dict[str, Family]]:
        executor = InProcessExecutor(lambda name: StickerBackend())
        try:
            plain = {family.name for family in ExecutorCollector(lambda: executor, "redis").collect()}
            with_workers = WithWorkers(executor)
            full = ExecutorCollector(lambda: with_workers, "redis").collect()  # type: ignore[arg-type, return-value]
            families = {
                family.name: Family(
                    family.name,
                    family.type,
                    frozenset(label for sample in family.samples for label in sample.labels),
                )
                for family in full
            }
        finally:
            await executor.shutdown()
        return plain, families

    return asyncio.run(collect())


def exposed_families() -> dict[str, Family]:
    """Every reactclip_ metric family: those engine/metrics.py and bot/metrics.py register (read
    from prometheus-client's registry) and those the ExecutorCollector yields at scrape time."""
    wrappers = [
        value
        for module in (engine_metrics, bot_metrics)
        for value in vars(module).values()
        if isinstance(value, MetricWrapperBase)
    ]
    labels = {wrapper.describe()[0].name: frozenset(wrapper._labelnames) for wrapper in wrappers}
    families = {
        metric.name: Family(metric.name, metric.type, labels[metric.name])
        for metric in REGISTRY.collect()
        if metric.name.startswith("reactclip_") and metric.name in labels
    }
    assert set(families) == set(labels), "a module's metric is missing from the registry"
    plain, collected = collector_families()
    assert plain <= set(collected)
    assert not set(families) & set(collected), "a collector family shadows a registered metric"
    return families | collected


@pytest.fixture(scope="module")
def families() -> dict[str, Family]:
    return exposed_families()


def promql_series(families: dict[str, Family]) -> set[str]:
    return {name for family in families.values() for name in family.series}


def family_of(series: str, families: dict[str, Family]) -> Family:
    [family] = [family for family in families.values() if series in family.series]
    return family


def check_promql(expr: str, families: dict[str, Family]) -> None:
    """Every metric an expression selects exists, with the labels it filters and groups by."""
    series = promql_series(families)
    used = set(METRIC.findall(expr))
    assert used, f"no reactclip_ metric in {expr!r}"
    unknown = used - series
    assert not unknown, f"{sorted(unknown)} are not exposed (in {expr!r})"
    assert expr.count("(") == expr.count(")") and expr.count("{") == expr.count("}"), expr
    scrape_labels = {"job", "instance"}
    for name, selector in re.findall(r"\b(reactclip_\w+)\{([^}]*)\}", expr):
        allowed = (
            family_of(name, families).labels | scrape_labels | ({"le"} if name.endswith("_bucket") else set())
        )
        for label in re.findall(r"(\w+)\s*(?:=~|!~|!=|=)", selector):
            assert label in allowed, f"{name} has no label {label!r} (in {expr!r})"
    in_expr = set().union(*(family_of(name, families).labels for name in used)) | scrape_labels | {"le"}
    for grouping in re.findall(r"\b(?:by|without)\s*\(([^)]*)\)", expr):
        for label in filter(None, (part.strip() for part in grouping.split(","))):
            assert label in in_expr, f"no metric of {expr!r} has a label {label!r}"


def fenced_blocks(text: str, language: str) -> list[str]:
    return re.findall(rf"^```{language}\n(.*?)^```", text, flags=re.DOTALL | re.MULTILINE)


# Tests: the commands.


@pytest.mark.parametrize("name", BUILT)
def test_every_container_runs_a_real_reactclip_subcommand_with_real_options(name: str) -> None:
    entrypoint, command = argv_of(SERVICES[name])
    assert entrypoint == ["reactclip"]
    check_invocation(command)


@pytest.mark.parametrize("path", DOCKERFILES, ids=lambda path: path.name)
def test_each_image_runs_the_installed_reactclip_command_by_default(path: Path) -> None:
    image = dockerfile(path)
    [script] = image.exec_form("ENTRYPOINT") or []
    target = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["scripts"][script]
    module, _, function = target.partition(":")
    assert getattr(importlib.import_module(module), function) is cli.main
    check_invocation(image.exec_form("CMD") or [])


def test_the_invocation_check_refuses_what_the_cli_would() -> None:
    assert check_invocation(["worker", "--concurrency", "4"]).params["concurrency"] == 4
    for wrong in (
        ["serve"],
        ["worker", "--gpus", "2"],
        ["worker", "--concurrency", "0"],
        ["run", "--queue", "q"],
    ):
        with pytest.raises((AssertionError, typer.TyperException)):  # a click UsageError
            check_invocation(wrong)


# Tests: the variables.


def test_the_settings_walk_finds_fields_and_nothing_else() -> None:
    assert settings_path("REACTCLIP_ENGINE__WAN__MODEL") == ("engine", "wan", "model")
    assert settings_path("reactclip_engine__redis_url") == ("engine", "redis_url")
    assert settings_path("REACTCLIP_DISCORD__TOKEN") == ("discord", "token")
    for wrong in (
        "REACTCLIP_ENGINE__WAN__MODLE",  # a typo
        "REACTCLIP_ENGINE_REDIS_URL",  # one underscore where the delimiter is two
        "REACTCLIP_ENGINE__BACKEND__NAME",  # past a plain field
        "REACTCLIP_LOG_FORMAT",  # a CLI option's, not a setting
    ):
        assert settings_path(wrong) is None, wrong
    assert "REACTCLIP_LOG_FORMAT" in outside_settings() and CONFIG_ENV in outside_settings()


@pytest.mark.parametrize(
    "path", [COMPOSE_FILE, *DOCKERFILES, OPERATIONS], ids=lambda path: str(path.relative_to(ROOT))
)
def test_every_reactclip_variable_named_is_one_reactclip_reads(path: Path) -> None:
    named = set(VARIABLE.findall(path.read_text()))
    assert named, f"{path.name} names no REACTCLIP_ variable"
    unknown = sorted(variable for variable in named if not known_variable(variable))
    assert not unknown, f"{path.name} names variables no setting or option reads: {unknown}"


@pytest.mark.parametrize("name", BUILT)
def test_each_service_environment_is_valid_settings_that_land_where_meant(
    name: str, no_config_file: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    env = {
        key: value
        for key, value in service_env(name, host=required_host_env()).items()
        if "REACTCLIP_" in key
    }
    for key, value in env.items():
        monkeypatch.setenv(key, value)
    settings = Settings()
    options = cli_envvars()
    for key, value in env.items():
        if key in options:  # e.g. --log-format: the CLI reads it, and its type says what it accepts
            assert rendered(option_from_env(key)) == value, key
            continue
        path = settings_path(key)
        assert path is not None, key
        actual: Any = settings
        for part in path:
            actual = getattr(actual, part)
        assert rendered(actual) == value, f"{key}={value!r} became {actual!r}"


def test_the_bot_and_workers_share_one_queue_and_store_on_a_healthy_redis() -> None:
    host = required_host_env()
    urls = {name: service_env(name, host=host)["REACTCLIP_ENGINE__REDIS_URL"] for name in BUILT}
    assert len(set(urls.values())) == 1, urls
    redis = urlparse(next(iter(urls.values()))).hostname
    assert redis in SERVICES and "healthcheck" in SERVICES[redis]
    for name in BUILT:
        env = service_env(name, host=host)
        assert env["REACTCLIP_ENGINE__DISTRIBUTED__ENABLED"] == "true"
        assert env["REACTCLIP_ENGINE__CACHE__STORE"] == "redis"
        assert SERVICES[name]["depends_on"][redis]["condition"] == "service_healthy"
        assert SERVICES[name]["restart"] == "unless-stopped"
    assert "bot" in BUILT and WORKERS


# Tests: secrets.

SECRET_SHAPES = {
    "a Discord bot token": re.compile(r"[MNO][\w-]{23,27}\.[\w-]{6}\.[\w-]{27,}"),
    "a Discord webhook": re.compile(r"discord(?:app)?\.com/api/webhooks/\d+/[\w-]+"),
    "a Slack webhook": re.compile(r"hooks\.slack\.com/services/\w+"),
    "a password in a URL": re.compile(r"\w+://[^\s:@/]*:[^\s@/]+@"),
    "a private key": re.compile(r"-----BEGIN [A-Z ]*PRIVATE KEY-----"),
}
SECRET_NAME = re.compile(r"TOKEN|SECRET|PASSWORD|WEBHOOK", re.IGNORECASE)


def test_the_secret_shapes_recognise_a_token() -> None:
    fake = "M" + "A" * 23 + "." + "b" * 6 + "." + "c" * 27
    assert SECRET_SHAPES["a Discord bot token"].search(f"TOKEN: {fake}")
    assert not SECRET_SHAPES["a Discord bot token"].search("${REACTCLIP_DISCORD__TOKEN:?set it}")


@pytest.mark.parametrize(
    "path", [COMPOSE_FILE, *DOCKERFILES, OPERATIONS, DASHBOARD], ids=lambda path: str(path.relative_to(ROOT))
)
def test_no_secret_is_written_in_a_deployment_file(path: Path) -> None:
    text = path.read_text()
    for what, shape in SECRET_SHAPES.items():
        assert not shape.search(text), f"{path.name} holds {what}"


def test_secrets_come_from_the_host_environment_only() -> None:
    for name, service in SERVICES.items():
        for key, value in (service.get("environment") or {}).items():
            if SECRET_NAME.search(key):
                match = INTERPOLATION.fullmatch(str(value))
                assert match and match["name"] == key, f"{name}: {key} is not taken from the host"
    token = SERVICES["bot"]["environment"]["REACTCLIP_DISCORD__TOKEN"]
    assert INTERPOLATION.fullmatch(token)["op"] == ":?"  # type: ignore[index]  # no token, no start
    for path in DOCKERFILES:
        image = dockerfile(path)
        baked = [key for key in image.env if SECRET_NAME.search(key)]
        args = [rest for name, rest in image.instructions if name == "ARG" and SECRET_NAME.search(rest)]
        assert not baked and not args, f"{path.name} bakes in {baked or args}"


# Tests: ports, health checks and stopping.


@pytest.mark.parametrize("path", DOCKERFILES, ids=lambda path: path.name)
def test_each_image_exposes_and_health_checks_its_commands_default_metrics_port(path: Path) -> None:
    image = dockerfile(path)
    [subcommand, *_] = image.exec_form("CMD") or [""]
    port = getattr(MonitoringSettings(), PORT_SETTING[subcommand])
    assert image.exposed == {port}
    assert image.health_url == ("127.0.0.1", port, "/health")


@pytest.mark.parametrize("path", DOCKERFILES, ids=lambda path: path.name)
def test_each_health_check_passes_on_a_live_server_and_fails_without_one(path: Path) -> None:
    image = dockerfile(path)
    program, flag, script = image.healthcheck
    assert (program, flag) == ("python", "-c")
    _, port, _ = image.health_url

    def check(on: int) -> int:
        probe = script.replace(f":{port}/", f":{on}/")
        return subprocess.run([sys.executable, "-c", probe], capture_output=True, timeout=30).returncode

    async def scenario() -> tuple[int, int]:
        async with MonitoringServer("127.0.0.1", 0, {}) as server:
            up = await asyncio.to_thread(check, server.port)
        return up, await asyncio.to_thread(check, server.port)

    up, down = asyncio.run(scenario())
    assert up == 0 and down != 0


@pytest.mark.parametrize("name", BUILT)
def test_each_service_serves_metrics_where_its_image_and_ports_look(name: str) -> None:
    service = SERVICES[name]
    image = image_of(service)
    _, command = argv_of(service)
    env = service_env(name, host=required_host_env())
    field = PORT_SETTING[command[0]]
    chosen = check_invocation(command).params.get("metrics_port")
    from_env = env.get(f"REACTCLIP_MONITORING__{field.upper()}")
    port = chosen if chosen is not None else int(from_env or getattr(MonitoringSettings(), field))
    assert image.exposed == {port} and image.health_url[1] == port
    published = {int(str(mapping).rsplit(":", 1)[1].split("/")[0]) for mapping in service.get("ports", [])}
    assert published <= {port}
    assert env["REACTCLIP_MONITORING__HOST"] == "0.0.0.0"  # Prometheus scrapes over the compose network


def seconds(duration: str) -> float:
    """A compose duration (``45s``, ``1m30s``) in seconds."""
    units = {"us": 1e-6, "ms": 1e-3, "s": 1, "m": 60, "h": 3600}
    parts = re.findall(r"(\d+(?:\.\d+)?)(us|ms|s|m|h)", duration)
    assert parts and "".join(n + u for n, u in parts) == duration, duration
    return sum(float(n) * units[u] for n, u in parts)


@pytest.mark.parametrize("name", WORKERS)
def test_a_stopping_worker_gets_longer_than_its_stop_grace(name: str) -> None:
    env = service_env(name, host=required_host_env())
    grace = DistributedSettings.model_validate(
        {
            "stop_grace_s": env.get(
                "REACTCLIP_ENGINE__DISTRIBUTED__STOP_GRACE_S", DistributedSettings().stop_grace_s
            )
        }
    ).stop_grace_s
    period = seconds(SERVICES[name]["stop_grace_period"])
    assert period >= grace + STOP_MARGIN_S, f"{name}: {period} s to stop, {grace} s of grace"
    # arq turns SIGTERM (and SIGINT) into its graceful stop.
    stop_signal = (
        SERVICES[name].get("stop_signal") or image_of(SERVICES[name]).last("STOPSIGNAL") or "SIGTERM"
    )
    assert stop_signal in ("SIGTERM", "SIGINT")


def test_the_bot_is_stopped_with_the_signal_discord_py_closes_on() -> None:
    service = SERVICES["bot"]
    assert (service.get("stop_signal") or image_of(service).last("STOPSIGNAL")) == "SIGINT"


@pytest.mark.parametrize("name", WORKERS)
def test_each_worker_has_a_gpu_of_its_own_and_read_only_weights(name: str, no_config_file: Path) -> None:
    service = SERVICES[name]
    [device] = service["deploy"]["resources"]["reservations"]["devices"]
    assert device["driver"] == "nvidia" and "gpu" in device["capabilities"]
    assert len(device["device_ids"]) == 1
    others = {
        tuple(SERVICES[other]["deploy"]["resources"]["reservations"]["devices"][0]["device_ids"])
        for other in WORKERS
        if other != name
    }
    assert tuple(device["device_ids"]) not in others
    model = Path(service_env(name, host=required_host_env())["REACTCLIP_ENGINE__WAN__MODEL"])
    mounts = [[*str(volume).split(":"), "rw"][1:3] for volume in service["volumes"]]
    assert any(model.is_relative_to(target) and mode == "ro" for target, mode in mounts), mounts


@pytest.mark.parametrize("path", DOCKERFILES, ids=lambda path: path.name)
def test_each_image_copies_only_what_the_install_reads(path: Path) -> None:
    """The build metadata and the packages' folders: never weights, tests, a venv or a config."""
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())
    needed = {
        "pyproject.toml",
        project["project"]["readme"],
        *project["tool"]["setuptools"]["package-dir"].values(),
    }
    image = dockerfile(path)
    assert not [rest for name, rest in image.instructions if name == "ADD"]
    copied = {
        source.rstrip("/")
        for name, rest in image.instructions
        if name == "COPY"
        for source in rest.split()[:-1]
    }
    assert copied == needed
    # .dockerignore lets in exactly that (it excludes everything, then lets each one back in).
    lines = [line.strip() for line in (ROOT / ".dockerignore").read_text().splitlines()]
    assert "*" in lines and {line[1:] for line in lines if line.startswith("!")} == needed


# Tests: the docs and the dashboard against the metrics.


def test_the_metric_families_come_from_the_code(families: dict[str, Family]) -> None:
    assert families["reactclip_requests"] == Family(
        "reactclip_requests", "counter", frozenset({"entry", "outcome"})
    )
    assert families["reactclip_render_seconds"].type == "histogram"
    assert families["reactclip_worker_heartbeat_age_seconds"].labels == {"worker"}
    assert {name for name, _ in engine_metrics.COUNTERS.values()} <= set(families)


def test_every_metric_is_documented_with_its_type_and_labels(families: dict[str, Family]) -> None:
    text = OPERATIONS.read_text()
    named = set(METRIC.findall(text))
    missing = sorted(f.documented_name for f in families.values() if f.documented_name not in named)
    assert not missing, f"docs/operations.md does not document {missing}"
    rows = {
        match[1]: (match[2].strip(), frozenset(re.findall(r"`(\w+)`", match[3])))
        for match in re.finditer(r"^\|\s*`(reactclip_\w+)`\s*\|([^|]*)\|([^|]*)\|", text, flags=re.MULTILINE)
    }
    for family in families.values():
        assert family.documented_name in rows, f"no table row for {family.documented_name}"
        assert rows[family.documented_name] == (family.type, family.labels), family


def test_every_metric_the_docs_name_exists(families: dict[str, Family]) -> None:
    allowed = promql_series(families) | {f.name for f in families.values() if f.type == "histogram"}
    unknown = sorted(set(METRIC.findall(OPERATIONS.read_text())) - allowed)
    assert not unknown, f"docs/operations.md names metrics nothing exposes: {unknown}"


def test_the_suggested_alert_rules_parse_and_select_real_metrics(families: dict[str, Family]) -> None:
    rule_files = [
        loaded
        for block in fenced_blocks(OPERATIONS.read_text(), "yaml")
        if isinstance(loaded := yaml.safe_load(block), dict) and "groups" in loaded
    ]
    assert len(rule_files) == 1
    rules = [rule for group in rule_files[0]["groups"] for rule in group["rules"]]
    assert len(rules) >= 5
    for rule in rules:
        assert {"alert", "expr", "labels", "annotations"} <= set(rule), rule
        seconds(rule.get("for", "0s"))
        check_promql(rule["expr"], families)


def panels(dashboard: dict[str, Any]) -> Iterator[dict[str, Any]]:
    for panel in dashboard.get("panels", []):
        yield panel
        yield from panels(panel)  # a row's own panels


def test_the_dashboard_queries_real_metrics_through_its_datasource_variable(
    families: dict[str, Family],
) -> None:
    dashboard = json.loads(DASHBOARD.read_text())
    assert dashboard["schemaVersion"] >= 36 and dashboard["uid"] and dashboard["title"]
    variables = {var["name"]: var for var in dashboard["templating"]["list"]}
    [datasource] = [name for name, var in variables.items() if var["type"] == "datasource"]
    assert variables[datasource]["query"] == "prometheus"
    ids = [panel["id"] for panel in panels(dashboard)]
    assert len(ids) == len(set(ids))
    used: set[str] = set()
    for panel in panels(dashboard):
        if panel["type"] == "row":
            continue
        assert panel["datasource"]["uid"] == f"${{{datasource}}}", panel["title"]
        assert panel["targets"], panel["title"]
        for target in panel["targets"]:
            check_promql(target["expr"], families)
            used |= {family_of(name, families).name for name in METRIC.findall(target["expr"])}
    watched = {
        "reactclip_requests",
        "reactclip_stage_seconds",
        "reactclip_render_seconds",
        "reactclip_queue_depth",
        "reactclip_load",
        "reactclip_cache_lookups",
        "reactclip_degraded_clips",
        "reactclip_failover_active",
        "reactclip_workers_alive",
        "reactclip_worker_heartbeat_age_seconds",
        "reactclip_variant_seconds",
        "reactclip_votes",
        "reactclip_moderation_blocks",
        "reactclip_event_loop_lag_seconds",
        "reactclip_peak_gpu_memory_bytes",
    }
    assert watched <= used, f"the dashboard shows nothing of {sorted(watched - used)}"


def test_the_promql_check_refuses_unknown_metrics_and_labels(families: dict[str, Family]) -> None:
    check_promql('sum by (outcome) (rate(reactclip_requests_total{entry="slash"}[5m]))', families)
    for wrong in (
        "rate(reactclip_requests[5m])",  # a counter is selected as _total
        "reactclip_load_total",
        'sum(rate(reactclip_requests_total{variant="a"}[5m]))',
        "sum by (variant) (rate(reactclip_requests_total[5m]))",
        "histogram_quantile(0.95, sum by (le) (rate(reactclip_stage_seconds[5m])))",
    ):
        with pytest.raises(AssertionError):
            check_promql(wrong, families)


def test_the_readme_points_operators_at_the_guide() -> None:
    readme = (ROOT / "README.md").read_text()
    deploying = readme.index("\n## Deploying\n")
    assert "(docs/operations.md)" in readme[deploying:]
    if "\n## Layout\n" in readme:
        assert deploying < readme.index("\n## Layout\n")

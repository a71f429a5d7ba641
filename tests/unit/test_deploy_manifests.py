"""The deployment files in deploy/ (issue 22, item 6), without a database or a cluster.

The Kubernetes manifests are validated against the Kubernetes API's own JSON schemas in
their strict form (unknown fields are errors), as bundled by kubernetes-validate; the compose
file against the Compose Specification's schema (tests/data/compose-spec/). The rest checks
what no schema knows: that the files name one image, settings the service has, commands
its CLI has, paths it serves, and the user, volume and writable paths of the Dockerfile.
"""

import os
import re
import shlex
import shutil
import subprocess
import tomllib
from functools import cache
from pathlib import Path
from urllib.parse import urlsplit

import click
import jsonschema_rs
import kubernetes_validate
import pytest
import typer.main
import yaml
from sqlalchemy.engine import make_url
from starlette.routing import Match

from app.cli import app as cli_app
from app.settings import Settings

ROOT = Path(__file__).resolve().parents[2]
DEPLOY = ROOT / "deploy"
K8S = DEPLOY / "k8s"
COMPOSE = DEPLOY / "compose.yaml"
ENV_EXAMPLE = DEPLOY / "arealsjekk.env.example"
COMPOSE_SCHEMA = ROOT / "tests" / "data" / "compose-spec" / "compose-spec.json"
SECRET_EXAMPLE = "secret.example.yaml"

# 1.30 is the first release with the preStop `sleep` action on by default (KEP-3960, beta);
# the newest is the newest kubernetes-validate bundles.
KUBERNETES_VERSIONS = ("1.30.0", kubernetes_validate.latest_version())

# Variables the files may set that are not the service's: the PostGIS image's account, and
# GDAL's block cache (a GDAL configuration option read from the environment).
FOREIGN_VARIABLES = {"POSTGRES_USER", "POSTGRES_PASSWORD", "POSTGRES_DB", "GDAL_CACHEMAX"}
PREFIX = "AREALSJEKK_"


# --- reading the files -----------------------------------------------------------------


def _yaml_documents(path: Path) -> list[dict]:
    return [doc for doc in yaml.safe_load_all(path.read_text("utf-8")) if doc]


@cache
def manifests() -> tuple[tuple[str, dict], ...]:
    """Every Kubernetes object in deploy/k8s/ with its file name (not the kustomization)."""
    return tuple(
        (path.name, doc)
        for path in sorted(K8S.glob("*.yaml"))
        if path.name != "kustomization.yaml"
        for doc in _yaml_documents(path)
    )


def _objects(kind: str) -> list[dict]:
    return [doc for _, doc in manifests() if doc["kind"] == kind]


def _one(kind: str, name: str) -> dict:
    found = [doc for doc in _objects(kind) if doc["metadata"]["name"] == name]
    assert len(found) == 1, f"expected one {kind} {name}, found {len(found)}"
    return found[0]


def _workloads() -> list[dict]:
    return _objects("Deployment") + _objects("Job")


def _pod_containers() -> list[tuple[dict, dict, dict]]:
    """(workload, pod spec, container) for every container of every Deployment and Job."""
    return [
        (workload, workload["spec"]["template"]["spec"], container)
        for workload in _workloads()
        for container in workload["spec"]["template"]["spec"]["containers"]
    ]


@cache
def compose() -> dict:
    """The compose file as Compose reads it (YAML merge keys resolved)."""
    return yaml.safe_load(COMPOSE.read_text("utf-8"))


def _app_services() -> dict[str, dict]:
    return {name: s for name, s in compose()["services"].items() if name != "db"}


def _env_file(path: Path) -> dict[str, str]:
    pairs = {}
    for line in path.read_text("utf-8").splitlines():
        if line.strip() and not line.lstrip().startswith("#"):
            name, _, value = line.partition("=")
            pairs[name.strip()] = value
    return pairs


@cache
def dockerfile() -> dict[str, object]:
    """The runtime stage's user id, group id, environment and volumes, read from ../Dockerfile."""
    text = re.sub(r"\\\n", " ", (ROOT / "Dockerfile").read_text("utf-8"))
    stages = re.split(r"^FROM\s", text, flags=re.MULTILINE)
    runtime = stages[-1]  # the last stage is the image that runs
    env: dict[str, str] = {}
    volumes: list[str] = []
    for line in runtime.splitlines():
        instruction, _, rest = line.strip().partition(" ")
        if instruction == "ENV":
            for word in shlex.split(rest):
                name, _, value = word.partition("=")
                env[name] = value
        elif instruction == "VOLUME":
            rest = rest.strip()
            volumes += yaml.safe_load(rest) if rest.startswith("[") else rest.split()
    uid = re.search(r"--uid\s+(\d+)", runtime)
    gid = re.search(r"--gid\s+(\d+)", runtime)
    user = re.findall(r"^USER\s+(\S+)", runtime, flags=re.MULTILINE)
    assert uid and user, "the Dockerfile's runtime stage creates a user with --uid and runs as it"
    uid_value, gid_value = int(uid.group(1)), int(gid.group(1)) if gid else int(uid.group(1))
    # USER may name the user or give uid[:gid]; numeric, it must be the user created.
    run_as = user[-1].split(":")
    if run_as[0].isdigit():
        assert int(run_as[0]) == uid_value, f"USER {user[-1]} is not the user created"
    if len(run_as) == 2 and run_as[1].isdigit():
        assert int(run_as[1]) == gid_value, f"USER {user[-1]} is not the group created"
    return {"uid": uid_value, "gid": gid_value, "env": env, "volumes": volumes}


@cache
def served_app():
    """The service's FastAPI application (built, not started: no database is touched)."""
    from app.main import create_app

    return create_app()


def _served(path: str) -> bool:
    scope = {"type": "http", "method": "GET", "path": path, "root_path": "", "headers": []}
    return any(route.matches(scope)[0] is Match.FULL for route in served_app().router.routes)


@cache
def cli() -> click.Group:
    """The `arealsjekk` command as click sees it."""
    return typer.main.get_command(cli_app)


def _project_version() -> str:
    return tomllib.loads((ROOT / "pyproject.toml").read_text("utf-8"))["project"]["version"]


def _option(argv: list[str], name: str) -> str:
    assert name in argv, f"{shlex.join(argv)} has no {name}"
    return argv[argv.index(name) + 1]


def _compose_command(service: dict) -> list[str]:
    command = service["command"]
    return shlex.split(command) if isinstance(command, str) else [str(c) for c in command]


def _healthcheck_url(test: list[str]) -> str:
    found = re.search(r"https?://[^'\"\s]+", " ".join(test))
    assert found, f"healthcheck {test} asks no URL"
    return found.group(0)


# --- schemas ---------------------------------------------------------------------------


@pytest.mark.parametrize("version", KUBERNETES_VERSIONS)
@pytest.mark.parametrize("name,doc", manifests(), ids=[f"{n}:{d['kind']}" for n, d in manifests()])
def test_manifest_is_valid_against_the_kubernetes_schema(name, doc, version):
    # strict: the schemas with additionalProperties false, so a misspelt field is an error.
    kubernetes_validate.validate(doc, version, strict=True)


def test_kubernetes_validation_rejects_a_misspelt_field():
    api = _one("Deployment", "arealsjekk-api")
    container = dict(api["spec"]["template"]["spec"]["containers"][0])
    container["livenesProbe"] = container.pop("livenessProbe")
    broken = {**api, "spec": {**api["spec"], "template": {**api["spec"]["template"]}}}
    broken["spec"]["template"]["spec"] = {
        **api["spec"]["template"]["spec"],
        "containers": [container],
    }
    with pytest.raises(kubernetes_validate.ValidationError, match="livenesProbe"):
        kubernetes_validate.validate(broken, KUBERNETES_VERSIONS[-1], strict=True)


@cache
def compose_validator():
    """The Compose Specification's JSON schema (draft 7), vendored."""
    return jsonschema_rs.validator_for(yaml.safe_load(COMPOSE_SCHEMA.read_text("utf-8")))


def test_compose_file_is_valid_against_the_compose_specification():
    assert [error.message for error in compose_validator().iter_errors(compose())] == []
    broken = {**compose(), "services": {**compose()["services"], "api": {"helthcheck": {}}}}
    assert not compose_validator().is_valid(broken)  # the schema bites


def test_kustomization_lists_every_manifest_but_the_secret_example():
    kustomization = yaml.safe_load((K8S / "kustomization.yaml").read_text("utf-8"))
    assert kustomization["kind"] == "Kustomization"
    files = {path.name for path in K8S.glob("*.yaml")} - {"kustomization.yaml"}
    # The example Secret holds a placeholder: applied with the rest, it would overwrite the
    # real Secret on every `kubectl apply -k`.
    assert sorted(kustomization["resources"]) == sorted(files - {SECRET_EXAMPLE})
    assert kustomization["namespace"] == _objects("Namespace")[0]["metadata"]["name"]
    image, tag = _the_image().rsplit(":", 1)
    assert kustomization["images"] == [{"name": image, "newTag": tag}]


@pytest.mark.skipif(shutil.which("kubectl") is None, reason="kubectl is not installed")
def test_kustomize_builds_valid_objects():
    built = subprocess.run(
        ["kubectl", "kustomize", str(K8S)], capture_output=True, text=True, check=True, timeout=60
    ).stdout
    docs = [doc for doc in yaml.safe_load_all(built) if doc]
    assert len(docs) == len(manifests()) - 1  # all but the example Secret
    for doc in docs:
        kubernetes_validate.validate(doc, KUBERNETES_VERSIONS[-1], strict=True)
        if doc["kind"] != "Namespace":
            assert doc["metadata"]["namespace"] == "arealsjekk"


# --- one image, real settings, real commands -------------------------------------------


def _the_image() -> str:
    images = {container["image"] for _, _, container in _pod_containers()}
    images |= {service["image"] for service in _app_services().values()}
    assert len(images) == 1, f"the deployment files name several images: {sorted(images)}"
    return images.pop()


def test_every_file_runs_the_same_image_of_this_version():
    assert _the_image() == f"arealsjekk:{_project_version()}"
    # Compose builds it from the project's Dockerfile.
    for service in _app_services().values():
        assert (COMPOSE.parent / service["build"]["context"]).resolve() == ROOT
        assert service["build"]["dockerfile"] == "Dockerfile"


def _variable_sources() -> dict[str, dict[str, str]]:
    sources = {
        ENV_EXAMPLE.name: _env_file(ENV_EXAMPLE),
        **{f"configmap {cm['metadata']['name']}": cm["data"] for cm in _objects("ConfigMap")},
        **{
            f"secret {secret['metadata']['name']}": secret["stringData"]
            for secret in _objects("Secret")
        },
    }
    for workload, _, container in _pod_containers():
        sources[f"{workload['metadata']['name']} env"] = {
            item["name"]: item.get("value", "") for item in container.get("env", [])
        }
    for name, service in compose()["services"].items():
        environment = service.get("environment", {})
        if isinstance(environment, list):
            environment = dict(item.partition("=")[::2] for item in environment)
        sources[f"compose {name} environment"] = environment
    return sources


def test_every_variable_is_a_setting_of_the_service():
    fields = set(Settings.model_fields)
    for source, variables in _variable_sources().items():
        for name in variables:
            if name in FOREIGN_VARIABLES:
                continue
            assert name.startswith(PREFIX), f"{source}: {name} is no AREALSJEKK_ setting"
            field = name.removeprefix(PREFIX).lower()
            assert field in fields, f"{source}: {name} is not a field of app/settings.py"


@pytest.mark.parametrize("source", sorted(_variable_sources()))
def test_every_value_is_accepted_by_the_settings(source, monkeypatch):
    for name in list(os.environ):
        if name.startswith(PREFIX):
            monkeypatch.delenv(name)
    variables = _variable_sources()[source]
    for name, value in variables.items():
        if name.startswith(PREFIX):
            monkeypatch.setenv(name, value)
    settings = Settings(_env_file=None)  # raises on a value the service would refuse
    for name in variables:
        if name.startswith(PREFIX):
            assert name.removeprefix(PREFIX).lower() in settings.model_fields_set


def test_pods_read_the_configmap_and_the_secret_that_exist():
    config_maps = {cm["metadata"]["name"]: cm for cm in _objects("ConfigMap")}
    secrets = {secret["metadata"]["name"]: secret for secret in _objects("Secret")}
    for workload, _, container in _pod_containers():
        where = workload["metadata"]["name"]
        sources = container["envFrom"]
        names = [s["configMapRef"]["name"] for s in sources if "configMapRef" in s]
        assert names and all(name in config_maps for name in names), where
        secret_names = [s["secretRef"]["name"] for s in sources if "secretRef" in s]
        assert secret_names and all(name in secrets for name in secret_names), where
        from_secrets = {key for name in secret_names for key in secrets[name]["stringData"]}
        assert "AREALSJEKK_DATABASE_URL" in from_secrets, where
    # The password belongs in the Secret only, and the example holds none.
    for cm in config_maps.values():
        assert "AREALSJEKK_DATABASE_URL" not in cm["data"]
    for secret in secrets.values():
        assert make_url(secret["stringData"]["AREALSJEKK_DATABASE_URL"]).password == "REPLACE-ME"


def test_compose_database_url_is_the_postgis_service_account():
    env = _env_file(ENV_EXAMPLE)
    url = make_url(env["AREALSJEKK_DATABASE_URL"])
    assert url.drivername == "postgresql+psycopg"
    assert url.host in compose()["services"]  # the PostGIS service, by its name
    assert (url.username, url.password, url.database) == (
        env["POSTGRES_USER"],
        env["POSTGRES_PASSWORD"],
        env["POSTGRES_DB"],
    )


def _commands() -> list[tuple[str, list[str]]]:
    found = [(f"compose {name}", _compose_command(s)) for name, s in _app_services().items()]
    for workload, _, container in _pod_containers():
        argv = container.get("command", []) + container.get("args", [])
        found.append((f"{workload['kind']} {workload['metadata']['name']}", argv))
    return found


@pytest.mark.parametrize("where,argv", _commands(), ids=[where for where, _ in _commands()])
def test_every_command_is_an_arealsjekk_command(where, argv):
    assert argv[0] == "arealsjekk", f"{where} runs {argv[0]}"
    name, options = argv[1], [a for a in argv[2:] if a.startswith("--")]
    if name == "worker" and name not in cli().commands:
        pytest.xfail("`arealsjekk worker` is not in app/cli.py yet (issue 22, item 1)")
    assert name in cli().commands, f"{where}: `arealsjekk {name}` is no command of app/cli.py"
    known = {opt for param in cli().commands[name].params for opt in param.opts}
    for option in options:
        assert option.split("=")[0] in known, f"{where}: `arealsjekk {name}` has no {option}"


# --- probes and metrics point at what the processes serve ------------------------------


def _api() -> tuple[dict, dict]:
    deployment = _one("Deployment", "arealsjekk-api")
    return deployment, deployment["spec"]["template"]["spec"]["containers"][0]


def _worker() -> tuple[dict, dict]:
    deployment = _one("Deployment", "arealsjekk-worker")
    return deployment, deployment["spec"]["template"]["spec"]["containers"][0]


def _port(container: dict, port: int | str) -> int:
    if isinstance(port, int):
        assert port in [p["containerPort"] for p in container["ports"]]
        return port
    named = [p["containerPort"] for p in container["ports"] if p["name"] == port]
    assert named, f"container {container['name']} has no port named {port}"
    return named[0]


def test_api_probes_ask_the_paths_the_service_serves():
    _, container = _api()
    port = int(_option(container["command"], "--port"))
    probes = {kind: container[kind] for kind in ("startupProbe", "livenessProbe", "readinessProbe")}
    for kind, probe in probes.items():
        assert _port(container, probe["httpGet"]["port"]) == port, kind
        assert _served(probe["httpGet"]["path"]), f"{kind}: the API serves no {probe}"
    # Liveness must not depend on the database (a database outage would restart every
    # replica); readiness must (the load balancer skips a replica that cannot answer).
    assert probes["livenessProbe"]["httpGet"]["path"] == "/healthz"
    assert probes["readinessProbe"]["httpGet"]["path"] == "/readyz"


def test_compose_healthchecks_ask_what_each_process_serves():
    services = compose()["services"]
    api_url = urlsplit(_healthcheck_url(services["api"]["healthcheck"]["test"]))
    assert api_url.port == int(_option(_compose_command(services["api"]), "--port"))
    assert _served(api_url.path)
    worker_url = urlsplit(_healthcheck_url(services["worker"]["healthcheck"]["test"]))
    assert worker_url.port == int(_option(_compose_command(services["worker"]), "--metrics-port"))
    # The image's HEALTHCHECK asks the API port: the one-shot setup must not inherit it.
    assert services["setup"]["healthcheck"] == {"disable": True}
    assert "healthcheck" in services["db"]


def test_worker_liveness_asks_its_metrics_port():
    deployment, container = _worker()
    metrics_port = int(_option(container["command"], "--metrics-port"))
    for kind in ("startupProbe", "livenessProbe"):
        assert _port(container, container[kind]["httpGet"]["port"]) == metrics_port, kind
    assert "readinessProbe" not in container  # no Service sends it traffic
    annotations = deployment["spec"]["template"]["metadata"]["annotations"]
    assert int(annotations["prometheus.io/port"]) == metrics_port


def test_api_is_scraped_where_it_serves_metrics():
    deployment, container = _api()
    annotations = deployment["spec"]["template"]["metadata"]["annotations"]
    assert annotations["prometheus.io/scrape"] == "true"
    assert int(annotations["prometheus.io/port"]) == int(_option(container["command"], "--port"))
    if not _served(annotations["prometheus.io/path"]):
        pytest.xfail("the API serves no /metrics yet (issue 22, item 7)")
    assert annotations["prometheus.io/path"] == "/metrics"


def test_service_reaches_the_api_pods():
    service = _one("Service", "arealsjekk-api")
    deployment, container = _api()
    labels = deployment["spec"]["template"]["metadata"]["labels"]
    assert service["spec"]["selector"].items() <= labels.items()
    assert deployment["spec"]["selector"]["matchLabels"].items() <= labels.items()
    for port in service["spec"]["ports"]:
        _port(container, port["targetPort"])
    # The worker pods must not match: they serve no API.
    worker_labels = _worker()[0]["spec"]["template"]["metadata"]["labels"]
    assert not service["spec"]["selector"].items() <= worker_labels.items()


# --- scaling ---------------------------------------------------------------------------


def test_two_replicas_of_api_and_worker_with_disruption_budgets():
    api, _ = _api()
    assert api["spec"]["replicas"] == 2
    worker, _ = _worker()
    autoscalers = [
        hpa
        for hpa in _objects("HorizontalPodAutoscaler")
        if hpa["spec"]["scaleTargetRef"]["name"] == worker["metadata"]["name"]
    ]
    if autoscalers:
        # An HPA owns the count; a replicas field would reset it on every apply.
        assert "replicas" not in worker["spec"]
        assert autoscalers[0]["spec"]["scaleTargetRef"]["kind"] == "Deployment"
        assert autoscalers[0]["spec"]["minReplicas"] == 2
    else:
        assert worker["spec"]["replicas"] == 2
    assert compose()["services"]["worker"]["deploy"]["replicas"] == 2
    budgets = {
        tuple(sorted(pdb["spec"]["selector"]["matchLabels"].items())): pdb
        for pdb in _objects("PodDisruptionBudget")
    }
    for deployment in (api, worker):
        key = tuple(sorted(deployment["spec"]["selector"]["matchLabels"].items()))
        assert budgets[key]["spec"]["minAvailable"] == 1


def test_setup_runs_once_before_the_api_and_workers():
    job = _one("Job", "arealsjekk-setup")
    assert job["spec"]["template"]["spec"]["containers"][0]["command"] == ["arealsjekk", "setup"]
    for deployment in _objects("Deployment"):  # never at start-up of a replica
        assert "setup" not in deployment["spec"]["template"]["spec"]["containers"][0]["command"]
    services = compose()["services"]
    assert services["setup"]["depends_on"] == {"db": {"condition": "service_healthy"}}
    for name in ("api", "worker"):
        assert services[name]["depends_on"] == {
            "setup": {"condition": "service_completed_successfully"}
        }


# --- the image's user, volume and writable paths ---------------------------------------


def test_pods_run_as_the_images_user():
    image = dockerfile()
    for workload, pod, container in _pod_containers():
        where = workload["metadata"]["name"]
        context = pod["securityContext"]
        assert context["runAsNonRoot"] is True, where
        assert context["runAsUser"] == image["uid"], where
        assert context["runAsGroup"] == image["gid"], where
        assert context["fsGroup"] == image["gid"], where  # the raster PVC writable by the group
        # With these the pods meet the namespace's Pod Security Standard "restricted".
        assert context["seccompProfile"]["type"] == "RuntimeDefault", where
        assert container["securityContext"]["allowPrivilegeEscalation"] is False, where
        assert container["securityContext"]["capabilities"]["drop"] == ["ALL"], where


def _raster_dir() -> str:
    values = {
        source: variables["AREALSJEKK_RASTER_DIR"]
        for source, variables in _variable_sources().items()
        if "AREALSJEKK_RASTER_DIR" in variables
    }
    if "AREALSJEKK_RASTER_DIR" in dockerfile()["env"]:
        values["Dockerfile ENV"] = dockerfile()["env"]["AREALSJEKK_RASTER_DIR"]
    assert len(set(values.values())) == 1, f"several raster directories: {values}"
    return next(iter(values.values()))


def test_raster_volume_is_shared_at_the_raster_dir():
    raster_dir = _raster_dir()
    assert raster_dir in dockerfile()["volumes"], "the image declares the raster dir a VOLUME"
    claim = _one("PersistentVolumeClaim", "arealsjekk-rasters")
    assert claim["spec"]["accessModes"] == ["ReadWriteMany"]  # API and workers, many nodes
    for deployment, container in (_api(), _worker()):
        pod = deployment["spec"]["template"]["spec"]
        volumes = {
            v["name"]
            for v in pod["volumes"]
            if v.get("persistentVolumeClaim", {}).get("claimName") == claim["metadata"]["name"]
        }
        mounts = [m for m in container["volumeMounts"] if m["name"] in volumes]
        assert [m["mountPath"] for m in mounts] == [raster_dir], deployment["metadata"]["name"]
        assert not mounts[0].get("readOnly", False)  # layer loads write COGs from either
    for name in ("api", "worker"):
        assert f"rasters:{raster_dir}" in compose()["services"][name]["volumes"], name
    assert "rasters" in compose()["volumes"]


def _writable_paths() -> set[str]:
    """Where the running service writes: /tmp, the rasters, and the image's home and cache."""
    env = dockerfile()["env"]
    # Fontconfig (PDF reports) writes its cache there; without a writable one every PDF
    # logs "No writable cache directories" (issue 22).
    assert "HOME" in env or "XDG_CACHE_HOME" in env, "the image sets a home or cache directory"
    paths = {"/tmp", _raster_dir()}
    paths |= {env[name] for name in ("HOME", "XDG_CACHE_HOME", "TMPDIR") if name in env}
    return paths


def _covered(path: str, mounts: set[str]) -> bool:
    return any(path == m or path.startswith(m.rstrip("/") + "/") for m in mounts)


def test_read_only_root_filesystem_has_every_writable_path_mounted():
    paths = _writable_paths()
    for workload, pod, container in _pod_containers():
        assert container["securityContext"]["readOnlyRootFilesystem"] is True
        writable = {
            v["name"] for v in pod["volumes"] if "emptyDir" in v or "persistentVolumeClaim" in v
        }
        mounts = {m["mountPath"] for m in container["volumeMounts"] if m["name"] in writable}
        needed = paths if workload["kind"] == "Deployment" else paths - {_raster_dir()}
        for path in needed:
            assert _covered(path, mounts), f"{workload['metadata']['name']}: {path} is read-only"
    for name, service in _app_services().items():
        assert service["read_only"] is True
        mounts = set(service["tmpfs"]) | {v.split(":")[1] for v in service["volumes"]}
        for path in paths:
            assert _covered(path, mounts), f"compose {name}: {path} is read-only"

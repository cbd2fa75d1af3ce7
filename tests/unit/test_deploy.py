"""The Kubernetes deploy files: the Helm chart rendered by Helm's own engine (helm-python-sdk
binds Helm v4's Go SDK; no helm binary is packaged for Debian 12) in each mode and with each
option, and the Kustomize files, every object validated with kubernetes-validate --strict
(unknown fields are errors) against the oldest and newest Kubernetes the chart supports.
kubernetes-validate has no schema for the ServiceMonitor CRD; its wiring is checked by hand.
No kustomize renderer installs here: each Kustomize file is validated as written and the
kustomizations' references are followed."""

from __future__ import annotations

import platform
import sys
import tomllib
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import kubernetes_validate
import pytest
from click.testing import CliRunner
from ruamel.yaml import YAML

from image_bot.cli import cli

ROOT = Path(__file__).resolve().parents[2]
CHART = ROOT / "deploy" / "helm" / "image-bot"
KUSTOMIZE = ROOT / "deploy" / "kubernetes"
VERSION = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["version"]
IMAGE = "ghcr.io/image-bot/image-bot"
KUBERNETES = ["1.29.0", kubernetes_validate.latest_version()]  # chart: kubeVersion >=1.27
STATE = "/var/lib/image-bot"

Obj = dict[str, Any]
HELM_PLATFORM = sys.platform == "linux" and platform.machine() == "x86_64"


def load_all(text: str) -> list[Obj]:
    return [doc for doc in YAML(typ="safe", pure=True).load_all(text) if doc]


def validate(objects: list[Obj]) -> None:
    for obj in objects:
        if obj["apiVersion"].startswith("monitoring.coreos.com/"):
            continue  # a CRD: no schema in kubernetes-validate (checked in its own test)
        for version in KUBERNETES:
            kubernetes_validate.validate(obj, version, strict=True)


def by_kind(objects: list[Obj]) -> dict[str, Obj]:
    kinds = [obj["kind"] for obj in objects]
    assert len(kinds) == len(set(kinds)), kinds
    return {obj["kind"]: obj for obj in objects}


def pod_of(workload: Obj) -> Obj:
    spec = workload["spec"]
    template = (
        spec["jobTemplate"]["spec"]["template"] if "jobTemplate" in spec else spec["template"]
    )
    pod: Obj = template["spec"]
    return pod


def assert_state_on_the_claim(workload: Obj, claim: str) -> None:
    pod = pod_of(workload)
    (volume,) = [v for v in pod["volumes"] if v["name"] == "state"]
    assert volume == {"name": "state", "persistentVolumeClaim": {"claimName": claim}}
    (container,) = pod["containers"]
    mounts = {m["name"]: m["mountPath"] for m in container["volumeMounts"]}
    assert mounts["state"] == STATE


def assert_args_parse(workload: Obj) -> list[str]:
    (container,) = pod_of(workload)["containers"]
    args: list[str] = container["args"]
    command = cli.commands[args[0]]
    command.make_context(args[0], args[1:])  # raises click.UsageError on unknown options
    return args


def assert_servicemonitor_scrapes(monitor: Obj, service: Obj) -> None:
    selector = monitor["spec"]["selector"]["matchLabels"]
    assert selector.items() <= service["metadata"]["labels"].items()
    (endpoint,) = monitor["spec"]["endpoints"]
    assert endpoint["path"] == "/metrics"
    assert endpoint["port"] in [port["name"] for port in service["spec"]["ports"]]


def assert_ingress_exposes_only_webhooks(ingress: Obj, service: Obj) -> None:
    (rule,) = ingress["spec"]["rules"]
    (path,) = rule["http"]["paths"]
    assert (path["path"], path["pathType"]) == ("/webhooks/", "Prefix")
    backend = path["backend"]["service"]
    assert backend["name"] == service["metadata"]["name"]
    assert backend["port"]["name"] in [port["name"] for port in service["spec"]["ports"]]


# --- Helm -------------------------------------------------------------------------------------

helm_only = pytest.mark.skipif(
    not HELM_PLATFORM, reason="helm-python-sdk ships Helm's engine for Linux x86_64 only"
)


@pytest.fixture(scope="module")
def helm() -> Iterator[Any]:
    import helm_python  # not skipped where it should exist: a missing install is a failure

    with helm_python.Chart.load(str(CHART)) as chart:
        yield chart


def render(chart: Any, **values: Any) -> tuple[list[Obj], str]:
    out = chart.render(values=values, name="image-bot", namespace="bots", is_install=True)
    notes = out.pop("image-bot/templates/NOTES.txt", "")
    objects = [obj for text in out.values() for obj in load_all(text)]
    validate(objects)
    return objects, notes


@helm_only
def test_the_chart_lints_clean_in_strict_mode() -> None:
    import helm_python

    report = helm_python.chart.lint(str(CHART), strict=True)
    assert report["errors"] == []
    assert [m for m in report["messages"] if m["severity"] >= 2] == []  # warnings and errors


@helm_only
def test_service_mode_by_default(helm: Any, tmp_path: Path) -> None:
    objects, notes = render(helm)
    kinds = by_kind(objects)
    assert set(kinds) == {
        "ConfigMap",
        "ServiceAccount",
        "PersistentVolumeClaim",
        "Deployment",
        "Service",
    }
    deployment = kinds["Deployment"]
    assert deployment["spec"]["replicas"] == 1
    assert deployment["spec"]["strategy"] == {"type": "Recreate"}
    (container,) = pod_of(deployment)["containers"]
    assert container["image"] == f"{IMAGE}:{VERSION}"
    probes = {name: container[name]["httpGet"]["path"] for name in
              ("startupProbe", "livenessProbe", "readinessProbe")}  # fmt: skip
    assert probes == {
        "startupProbe": "/healthz",
        "livenessProbe": "/healthz",
        "readinessProbe": "/readyz",
    }
    args = assert_args_parse(deployment)
    assert args[:1] == ["serve"]
    assert args[args.index("--port") + 1] == str(container["ports"][0]["containerPort"])
    assert_state_on_the_claim(deployment, kinds["PersistentVolumeClaim"]["metadata"]["name"])
    assert kinds["Service"]["spec"]["selector"].items() <= pod_of_labels(deployment).items()
    assert "port-forward svc/image-bot" in notes

    config = tmp_path / "config.yaml"
    config.write_text(kinds["ConfigMap"]["data"]["config.yaml"])
    result = CliRunner().invoke(cli, ["check-config", "--allow-missing-secrets", str(config)])
    assert result.exit_code == 0, result.output
    assert YAML(typ="safe").load(config.read_text())["state_dir"] == STATE


def pod_of_labels(workload: Obj) -> dict[str, str]:
    labels: dict[str, str] = workload["spec"]["template"]["metadata"]["labels"]
    return labels


@helm_only
def test_ingress_and_servicemonitor_when_asked(helm: Any) -> None:
    objects, _ = render(
        helm,
        ingress={"enabled": True, "className": "nginx", "host": "bot.example.com",
                 "tls": [{"secretName": "bot-tls", "hosts": ["bot.example.com"]}]},
        serviceMonitor={"enabled": True, "labels": {"release": "prometheus"}},
    )  # fmt: skip
    kinds = by_kind(objects)
    assert_ingress_exposes_only_webhooks(kinds["Ingress"], kinds["Service"])
    assert kinds["Ingress"]["spec"]["ingressClassName"] == "nginx"
    monitor = kinds["ServiceMonitor"]
    assert monitor["metadata"]["labels"]["release"] == "prometheus"
    assert_servicemonitor_scrapes(monitor, kinds["Service"])


@helm_only
def test_cronjob_mode_keeps_state_on_a_claim(helm: Any) -> None:
    objects, _ = render(helm, mode="cronjob", ingress={"enabled": True})
    kinds = by_kind(objects)
    assert set(kinds) == {"ConfigMap", "ServiceAccount", "PersistentVolumeClaim", "CronJob"}
    cronjob = kinds["CronJob"]
    assert cronjob["spec"]["concurrencyPolicy"] == "Forbid"
    assert_state_on_the_claim(cronjob, kinds["PersistentVolumeClaim"]["metadata"]["name"])
    assert assert_args_parse(cronjob)[:2] == ["run", "--once"]


@helm_only
def test_existing_claim_config_and_digest(helm: Any) -> None:
    digest = "sha256:" + "ab" * 32
    objects, _ = render(
        helm,
        persistence={"existingClaim": "my-state"},
        existingConfigMap="my-config",
        image={"digest": digest},
        secretName="",
    )
    kinds = by_kind(objects)
    assert "PersistentVolumeClaim" not in kinds
    assert "ConfigMap" not in kinds
    deployment = kinds["Deployment"]
    assert_state_on_the_claim(deployment, "my-state")
    pod = pod_of(deployment)
    (container,) = pod["containers"]
    assert container["image"] == f"{IMAGE}@{digest}"
    assert "envFrom" not in container
    (config,) = [v for v in pod["volumes"] if v["name"] == "config"]
    assert config["configMap"]["name"] == "my-config"


@helm_only
def test_without_persistence_it_says_what_is_lost(helm: Any) -> None:
    objects, notes = render(helm, persistence={"enabled": False})
    kinds = by_kind(objects)
    assert "PersistentVolumeClaim" not in kinds
    (state,) = [v for v in pod_of(kinds["Deployment"])["volumes"] if v["name"] == "state"]
    assert state == {"name": "state", "emptyDir": {}}
    assert "min_age" in notes


@helm_only
def test_a_wrong_field_fails_validation(helm: Any) -> None:
    """The strict validation this file relies on rejects what a cluster would reject."""
    objects, _ = render(helm)
    deployment = by_kind(objects)["Deployment"]
    pod_of(deployment)["containers"][0]["livenessProbe"]["httpGet"]["paht"] = "/healthz"
    with pytest.raises(kubernetes_validate.ValidationError):
        validate([deployment])


# --- Kustomize ----------------------------------------------------------------------------------


def kustomize_files() -> dict[Path, list[Obj]]:
    return {
        path: load_all(path.read_text(encoding="utf-8"))
        for path in sorted(KUSTOMIZE.rglob("*.yaml"))
        if path.name != "kustomization.yaml"
    }


def test_every_kustomize_manifest_is_valid() -> None:
    files = kustomize_files()
    assert len(files) >= 9
    for objects in files.values():
        validate(objects)


def resources_of(directory: Path) -> list[Obj]:
    """The objects a kustomization lists, following bases and components (not a renderer:
    no patches or transformers, which these files do not use besides `images` and labels)."""
    kustomization = YAML(typ="safe", pure=True).load((directory / "kustomization.yaml").read_text())
    objects: list[Obj] = []
    for entry in [*kustomization.get("resources", []), *kustomization.get("components", [])]:
        target = directory / entry
        objects += resources_of(target) if target.is_dir() else load_all(target.read_text())
    return objects


@pytest.mark.parametrize("mode", ["service", "cronjob"])
def test_each_kustomize_mode_keeps_state_on_the_claim_and_uses_the_released_image(
    mode: str,
) -> None:
    directory = KUSTOMIZE / mode
    kinds = by_kind(resources_of(directory))
    workload = kinds["Deployment" if mode == "service" else "CronJob"]
    assert_state_on_the_claim(workload, kinds["PersistentVolumeClaim"]["metadata"]["name"])
    assert_args_parse(workload)
    kustomization = YAML(typ="safe", pure=True).load((directory / "kustomization.yaml").read_text())
    (image,) = kustomization["images"]
    (container,) = pod_of(workload)["containers"]
    assert image["name"] == container["image"]
    assert (image["newName"], image["newTag"]) == (IMAGE, VERSION)


def test_kustomize_components_wire_to_the_service() -> None:
    service = by_kind(resources_of(KUSTOMIZE / "service"))["Service"]
    ingress = by_kind(resources_of(KUSTOMIZE / "components" / "ingress"))["Ingress"]
    assert_ingress_exposes_only_webhooks(ingress, service)
    monitor = by_kind(resources_of(KUSTOMIZE / "components" / "servicemonitor"))["ServiceMonitor"]
    assert_servicemonitor_scrapes(monitor, service)


def test_one_image_name_everywhere() -> None:
    """Docs, deploy files, examples, the workflow and the Dockerfile name one image."""
    import re

    pattern = re.compile(r"ghcr\.io/[\w.-]+/image-bot\b")
    places = [ROOT / "README.md", ROOT / "Dockerfile", ROOT / "action.yml",
              *ROOT.glob("docs/*.md"), *ROOT.glob("examples/*.yml"),
              *ROOT.glob(".github/workflows/*.yml"), *ROOT.glob("deploy/**/*.yaml")]  # fmt: skip
    found = {name for path in places for name in pattern.findall(path.read_text())}
    assert found == {IMAGE}

"""`image-bot import flux|argocd PATH` through the real CLI: every documentation example
gives a config that `check-config` accepts, and every note is in the file and on stderr."""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner

from image_bot.cli import cli

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures" / "migrate"
INPUTS = [
    *(("flux", path) for path in sorted((FIXTURES / "flux").iterdir()) if path.is_dir()),
    *(("argocd", path) for path in sorted((FIXTURES / "argocd").glob("*.yaml"))),
]


def invoke(*args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(cli, list(args))
    return result.exit_code, result.stdout, result.stderr


@pytest.mark.parametrize(("tool", "path"), INPUTS, ids=lambda x: getattr(x, "name", x))
def test_every_example_imports_to_a_config_check_config_accepts(
    tool: str, path: Path, tmp_path: Path
) -> None:
    code, out, err = invoke("import", tool, str(path))
    assert code == 0, err
    written = tmp_path / "image-bot.yaml"
    written.write_text(out, encoding="utf-8")
    checked = CliRunner().invoke(cli, ["check-config", "--allow-missing-secrets", str(written)])
    assert checked.exit_code == 0, checked.output
    notes = [line.removeprefix("note: ") for line in err.splitlines() if line.startswith("note: ")]
    header = " ".join(
        line.lstrip("# -").strip() for line in out.split("\nregistries:")[0].splitlines()
    )
    for note in notes:  # each note is also atop the file (wrapped)
        assert " ".join(note.split()) in " ".join(header.split()), note
    assert err.splitlines()[-1].startswith("imported ")


def test_output_to_a_file_never_overwrites_without_force(tmp_path: Path) -> None:
    target = tmp_path / "image-bot.yaml"
    source = str(FIXTURES / "flux" / "automation-v1")
    code, out, err = invoke("import", "flux", source, "-o", str(target))
    assert (code, out) == (0, "")
    assert "default:podinfo-policy:" in target.read_text(encoding="utf-8")
    assert f"(written to {target})" in err
    target.write_text("mine\n", encoding="utf-8")
    code, _, err = invoke("import", "flux", source, "-o", str(target))
    assert code == 2
    assert "exists (use --force to overwrite it)" in err
    assert target.read_text(encoding="utf-8") == "mine\n"
    assert invoke("import", "flux", source, "-o", str(target), "--force")[0] == 0
    assert "default:podinfo-policy:" in target.read_text(encoding="utf-8")


def test_a_path_without_objects_of_the_tool_is_an_error(tmp_path: Path) -> None:
    (tmp_path / "deploy.yaml").write_text("apiVersion: apps/v1\nkind: Deployment\n")
    code, _, err = invoke("import", "flux", str(tmp_path))
    assert code == 2
    assert "no Flux image automation object found" in err
    code, _, err = invoke("import", "argocd", str(FIXTURES / "flux" / "automation-v1"))
    assert code == 2
    assert "no Application with an argocd-image-updater.argoproj.io/image-list" in err


def test_unreadable_files_are_noted_and_the_rest_imported(tmp_path: Path) -> None:
    source = FIXTURES / "flux" / "automation-v1" / "all.yaml"
    (tmp_path / "all.yaml").write_text(source.read_text(encoding="utf-8"), encoding="utf-8")
    (tmp_path / "broken.yaml").write_text('spec: {policy: "semver\n  x: 1\n', encoding="utf-8")
    code, out, err = invoke("import", "flux", str(tmp_path))
    assert code == 0
    assert "note: broken.yaml:1: not valid YAML: the quoted string that starts here is" in err
    assert "default:podinfo-policy:" in out


def test_markers_in_the_manifests_are_checked_against_the_imported_policies(
    tmp_path: Path,
) -> None:
    source = FIXTURES / "flux" / "automation-v1" / "all.yaml"
    (tmp_path / "flux.yaml").write_text(source.read_text(encoding="utf-8"), encoding="utf-8")
    (tmp_path / "apps").mkdir()
    (tmp_path / "apps" / "podinfo.yaml").write_text(
        "spec:\n  template:\n    spec:\n      containers:\n"
        "        - name: podinfo\n"
        "          image: ghcr.io/stefanprodan/podinfo:5.0.0"
        ' # {"$imagepolicy": "default:podinfo-policy"}\n'
        "        - name: sidecar\n"
        '          image: ghcr.io/stefanprodan/podinfo:5.0.0 # {"$imagepolicy": "default:gone"}\n',
        encoding="utf-8",
    )
    code, _, err = invoke("import", "flux", str(tmp_path))
    assert code == 0
    assert (
        "note: apps/podinfo.yaml:8: the marker names policy 'default:gone', which no imported"
        " ImagePolicy defines"
    ) in err
    assert "podinfo-policy'" not in err

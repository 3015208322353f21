"""The wheel ships the bundled pack: build it, install it in a fresh venv, ask from elsewhere."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import venv
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]


@pytest.mark.slow
@pytest.mark.skipif(not (REPO / "pyproject.toml").is_file(), reason="needs the source tree")
def test_wheel_installs_and_answers_from_another_directory(tmp_path: Path) -> None:
    dist = tmp_path / "dist"
    subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--no-deps", "-q", "-w", str(dist), str(REPO)],
        check=True,
        timeout=600,
    )
    wheels = list(dist.glob("ai_office_router-*.whl"))
    assert len(wheels) == 1
    import zipfile

    names = zipfile.ZipFile(wheels[0]).namelist()
    assert "router/corpus/units.yaml" in names
    assert "router/batch/engine.py" in names and "router/batch/dask.py" in names  # a subpackage
    assert "router/corpus/sources/ai_office_announcement.txt" in names
    assert "router/intents/calibration.yaml" in names
    assert "router/intents/out_of_scope.yaml" in names
    assert "router/corpus/topics.yaml" in names
    assert "router/intents/topics/model.npz" in names
    assert "router/intents/act/model.npz" in names
    assert "router/intents/act/questions.yaml" in names
    assert "router/catalogue.yaml" in names  # the replies' wording in five languages
    assert any(n.startswith("router/corpus/sources/pages/") for n in names)
    assert any(n.endswith(".dist-info/licenses/LICENSE") or n.endswith(".dist-info/LICENSE")
               for n in names)

    env_dir = tmp_path / "venv"
    venv.create(env_dir, with_pip=True)
    py = env_dir / "bin" / "python"
    subprocess.run([str(py), "-m", "pip", "install", "-q", str(wheels[0])], check=True, timeout=900)
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    result = subprocess.run(
        [str(env_dir / "bin" / "ai-office"), "ask", "--json", "who fines GPAI providers?"],
        cwd=elsewhere,
        capture_output=True,
        text=True,
        env={k: v for k, v in os.environ.items() if k != "PYTHONPATH"},
        timeout=300,
    )
    assert result.returncode == 0, result.stderr
    answer = json.loads(result.stdout)
    assert answer["unit"] == "regulation_compliance"
    assert answer["provisions"] and answer["provisions"][0]["reference"].startswith("Article 101")
    assert "StaleCalibration" not in result.stderr
    assert "Warning" not in result.stderr
    assert answer["language"] == "en"
    french = subprocess.run(
        [str(env_dir / "bin" / "ai-office"), "ask", "Qui sanctionne les entreprises ?"],
        cwd=elsewhere,
        capture_output=True,
        text=True,
        env={k: v for k, v in os.environ.items() if k != "PYTHONPATH"},
        timeout=300,
    )
    assert french.returncode == 0, french.stderr
    assert "(cité en anglais)" in french.stdout  # the wording shipped, and the identifier

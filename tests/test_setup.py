"""The setup scripts behind `make run`: .env generation and finding Python 3.10."""
from __future__ import annotations

import importlib.util
import shutil
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


def load_make_env():
    spec = importlib.util.spec_from_file_location("make_env", ROOT / "scripts" / "make_env.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_env_example_secrets_are_generated_fresh() -> None:
    make_env = load_make_env()
    template = "# A=<generate> stays a comment\nA=<generate>\nB=<generate>\nC=plain\n"
    first, second = make_env.render(template), make_env.render(template)
    values = dict(line.split("=", 1) for line in first.splitlines() if not line.startswith("#"))
    assert values["C"] == "plain"
    assert len(values["A"]) >= 40 and values["A"] != values["B"]
    assert first != second
    assert "# A=<generate> stays a comment" in first


def test_existing_env_is_never_overwritten(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    make_env = load_make_env()
    (tmp_path / ".env.example").write_text("RASA_API_TOKEN=<generate>\n")
    monkeypatch.setattr(make_env, "ROOT", tmp_path)
    make_env.main()
    written = (tmp_path / ".env").read_text()
    assert written.startswith("RASA_API_TOKEN=") and "<generate>" not in written
    (tmp_path / ".env").write_text("RASA_API_TOKEN=mine\n")
    make_env.main()
    assert (tmp_path / ".env").read_text() == "RASA_API_TOKEN=mine\n"



def test_missing_python310_stops_with_one_line(tmp_path: Path) -> None:
    result = subprocess.run(
        ["bash", str(ROOT / "scripts" / "find_python310.sh")],
        env={"PATH": "/usr/bin:/bin", "HOME": str(tmp_path)},
        capture_output=True,
        text=True,
    )
    assert result.returncode == 1
    assert result.stdout == ""
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and "Python 3.10 is required" in lines[0]


def test_python310_is_found_on_this_machine() -> None:
    result = subprocess.run(["bash", str(ROOT / "scripts" / "find_python310.sh")], capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    version = subprocess.run([result.stdout.strip(), "--version"], capture_output=True, text=True).stdout
    assert version.startswith("Python 3.10")


def test_make_run_without_python310_says_what_to_install(tmp_path: Path) -> None:
    (tmp_path / "scripts").mkdir()
    for name in ("Makefile", "requirements.txt", "requirements-encoder.txt", "scripts/find_python310.sh",
                 "scripts/bootstrap_venv.sh"):
        shutil.copy2(ROOT / name, tmp_path / name)  # keeps the executable bit
    result = subprocess.run(
        ["make", "run"], cwd=tmp_path, env={"PATH": "/usr/bin:/bin", "HOME": str(tmp_path)},
        capture_output=True, text=True,
    )
    assert result.returncode != 0
    out = (result.stdout + result.stderr).strip().splitlines()
    assert len(out) == 1 and "Python 3.10 is required" in out[0] and "pyenv install 3.10" in out[0]
    assert not (tmp_path / ".venv").exists()


def load_script(name: str):
    spec = importlib.util.spec_from_file_location(name, ROOT / "scripts" / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_training_is_skipped_only_while_inputs_and_model_are_unchanged(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    train = load_script("train")
    (tmp_path / "data").mkdir()
    (tmp_path / "models").mkdir()
    (tmp_path / "config.yml").write_text("pipeline: []\n")
    (tmp_path / "data" / "nlu.yml").write_text("nlu: []\n")
    monkeypatch.setattr(train, "ROOT", tmp_path)
    monkeypatch.setattr(train, "MODELS", tmp_path / "models")
    monkeypatch.setattr(train, "STAMP", tmp_path / "models" / "fingerprint.json")
    calls = []

    def fake_rasa_train(cmd, cwd):
        calls.append(cmd)
        (tmp_path / "models" / f"model-{len(calls)}.tar.gz").write_text("model")
        return 0

    monkeypatch.setattr(train.subprocess, "call", fake_rasa_train)
    assert train.main() == 0 and len(calls) == 1  # no model yet: trains
    assert train.main() == 0 and len(calls) == 1  # nothing changed: reuses it
    (tmp_path / "data" / "nlu.yml").write_text("nlu: [changed]\n")
    assert train.main() == 0 and len(calls) == 2  # data changed: trains again
    assert train.main() == 0 and len(calls) == 2
    (tmp_path / "models" / "model-2.tar.gz").unlink()
    assert train.main() == 0 and len(calls) == 3  # model removed: trains again
    assert "train" in calls[0] and "--domain" in calls[0]


def load_stack():
    spec = importlib.util.spec_from_file_location("stack_script", ROOT / "scripts" / "stack.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.mark.parametrize("interruption", [KeyboardInterrupt, SystemExit])
def test_a_server_still_starting_is_stopped_when_the_wait_is_interrupted(monkeypatch, interruption) -> None:
    """A stack stopped while a server is still starting (SIGTERM -> KeyboardInterrupt in stack.py) must not
    leave that server running: it is not yet in the list of processes `run` stops."""
    stack = load_stack()
    server = subprocess.Popen(["sleep", "60"])
    try:
        def interrupted(url, proc, timeout):
            raise interruption()

        monkeypatch.setattr(stack, "_poll_http", interrupted)
        with pytest.raises(interruption):
            stack._wait_http("http://127.0.0.1:9/health", server, 5)
        assert server.poll() is not None  # stopped, not orphaned
    finally:
        if server.poll() is None:
            server.kill()

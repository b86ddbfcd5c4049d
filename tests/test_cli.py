"""The command line: every subcommand has help, the sample -> index path works, and expected failures end
in one `error: ...` line with exit status 2 (never a traceback).

Most commands run in-process through `cli.main` (a `python -m wikiart_utils` start costs ~4 s of torch
import); two run as real subprocesses: the top-level help and the offline hub download, whose
HF_HUB_OFFLINE setting is read when `datasets` is imported.
"""
from __future__ import annotations

import argparse
import os
import subprocess
import sys
from pathlib import Path

import pytest

from wikiart_utils import cli, metadata

REPO_ROOT = Path(__file__).resolve().parents[1]
CORE_COMMANDS = ("sample", "index", "prepare", "download", "extract")
OPTIONAL_COMMANDS = ("train", "evaluate", "predict", "reproduce")


def registered_commands() -> list[str]:
    parser = cli.build_parser()
    (sub,) = [a for a in parser._actions if a.__class__.__name__ == "_SubParsersAction"]
    return list(sub.choices)


def run_module(*args: str, env: dict | None = None, timeout: float = 120) -> subprocess.CompletedProcess:
    """`python -m wikiart_utils ARGS` in a fresh interpreter (the repo on sys.path, offline hub)."""
    full_env = {**os.environ, "HF_HUB_OFFLINE": "1", "HF_DATASETS_OFFLINE": "1", **(env or {})}
    full_env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(REPO_ROOT), full_env.get("PYTHONPATH")]))
    return subprocess.run([sys.executable, "-m", "wikiart_utils", *args], capture_output=True, text=True,
                          env=full_env, timeout=timeout, cwd=REPO_ROOT)


def assert_one_line_error(stderr: str, *fragments: str) -> str:
    """stderr holds exactly one non-progress line `error: ...` (tqdm bars use \\r) with each fragment."""
    assert "Traceback" not in stderr, stderr
    lines = [line for line in stderr.splitlines() if line.strip() and "\r" not in line]
    assert len(lines) == 1, stderr
    assert lines[0].startswith("error: "), stderr
    for fragment in fragments:
        assert fragment.lower() in lines[0].lower(), lines[0]
    return lines[0]


def run_main(capsys, *args: str) -> tuple[int, str, str]:
    code = cli.main(list(args))
    captured = capsys.readouterr()
    return code, captured.out, captured.err


# --------------------------------------------------------------------------- help

def test_core_commands_registered():
    commands = registered_commands()
    for name in CORE_COMMANDS:
        assert name in commands
    assert set(commands) <= set(CORE_COMMANDS) | set(OPTIONAL_COMMANDS), commands


def test_module_help_lists_every_command():
    result = run_module("--help")
    assert result.returncode == 0, result.stderr
    assert "Traceback" not in result.stderr
    for name in registered_commands():
        assert name in result.stdout


def test_cli_choices_match_the_package():
    from wikiart_utils import config, models
    from wikiart_utils import readers
    assert config.VARIANTS == tuple(models.variant_names()) and readers.READOUTS is config.READOUTS
    assert set(config.MODEL_OPTIONS) == set(models.DEFAULT_OPTIONS)


def train_parser():
    (sub,) = [a for a in cli.build_parser()._actions if a.__class__.__name__ == "_SubParsersAction"]
    return sub.choices["train"]


def test_train_flags_are_generated_from_the_config():
    """One flag per TrainConfig and Session field and model option, none with a default of its own: a
    flag not typed is absent from the namespace (so resume can tell it from a typed one)."""
    from dataclasses import fields

    from wikiart_utils import config
    actions = [a for a in train_parser()._actions if a.dest not in ("help", "data", "out")]
    want = {f.name for cls in (config.TrainConfig, config.Session) for f in fields(cls)} - {"model_options"}
    assert {a.dest for a in actions} == want | set(config.MODEL_OPTIONS)
    assert all(a.default is argparse.SUPPRESS for a in actions)
    given = vars(train_parser().parse_args(["--data", "d", "--out", "o", "--lr", "0.1", "--no-pretrained"]))
    given.pop("func")
    assert given == {"data": "d", "out": "o", "lr": 0.1, "pretrained": False}


def test_help_imports_no_torch():
    result = subprocess.run([sys.executable, "-c", "import sys; from wikiart_utils import cli; "
                             "cli.build_parser(); print('torch' in sys.modules)"], capture_output=True, text=True,
                            cwd=REPO_ROOT)
    assert result.stdout.strip() == "False", result.stderr


@pytest.mark.parametrize("command", registered_commands())
def test_command_help(command, capsys):
    with pytest.raises(SystemExit) as info:
        cli.main([command, "--help"])
    assert info.value.code == 0
    out = capsys.readouterr().out
    assert out.startswith("usage:") and command in out


def test_unknown_command_is_a_usage_error(capsys):
    with pytest.raises(SystemExit) as info:
        cli.main(["no-such-command"])
    assert info.value.code == 2
    assert "invalid choice" in capsys.readouterr().err


# --------------------------------------------------------------------------- happy path

def test_sample_then_index(tmp_path, capsys):
    out = tmp_path / "tiny"
    code, stdout, _ = run_main(capsys, "sample", "--out", str(out), "--n", "30", "--size", "32", "--workers", "1")
    assert code == 0
    assert stdout.startswith("indexed ") and "refused 0" in stdout
    first = metadata.read_metadata(out)
    assert len(first) >= 30

    code, stdout, _ = run_main(capsys, "index", "--root", str(out), "--workers", "1")
    assert code == 0
    assert stdout.startswith(f"indexed {len(first)} images in {out} (artist known for ") and "; refused 0" in stdout
    again = metadata.read_metadata(out)
    assert list(again["path"]) == list(first["path"])
    assert list(again["split"]) == list(first["split"])


def test_reindex_refuses_no_bookkeeping_file(tmp_path, capsys):
    out = tmp_path / "tiny"
    assert run_main(capsys, "sample", "--out", str(out), "--n", "20", "--size", "32", "--workers", "1")[0] == 0
    code, stdout, _ = run_main(capsys, "index", "--root", str(out), "--workers", "1")
    assert code == 0 and "; refused 0" in stdout, stdout


def test_index_lists_refusals(tmp_path, capsys, make_images):
    root = tmp_path / "ds"
    make_images.valid(root / "Baroque")
    make_images.bad(root / "Baroque")
    code, stdout, _ = run_main(capsys, "index", "--root", str(root), "--workers", "1")
    assert code == 0
    assert "refused 4" in stdout
    assert stdout.count("  refused Baroque/") == 4


# --------------------------------------------------------------------------- one-line errors, exit 2

def test_index_missing_dir(tmp_path, capsys):
    code, _, err = run_main(capsys, "index", "--root", str(tmp_path / "nope"))
    assert code == 2
    assert_one_line_error(err, "nope", "not a directory")


def test_prepare_without_metadata(tmp_path, capsys):
    (tmp_path / "src").mkdir()
    code, _, err = run_main(capsys, "prepare", "--root", str(tmp_path / "src"), "--out", str(tmp_path / "out"))
    assert code == 2
    assert_one_line_error(err, "metadata.csv not found", "index --root")


@pytest.mark.parametrize("bad_path", ["../outside_x.jpg", "Baroque/../../etc/passwd", "/etc/passwd"])
def test_prepare_malformed_metadata(tmp_path, capsys, sample_dir, bad_path):
    src = tmp_path / "src"
    src.mkdir()
    lines = (sample_dir / metadata.METADATA).read_text(encoding="utf-8").splitlines()
    header, rows = lines[0], lines[1:4]
    first = rows[1].split(",")
    first[0] = bad_path
    rows[1] = ",".join(first)
    (src / metadata.METADATA).write_text("\n".join([header, *rows]) + "\n", encoding="utf-8")
    code, _, err = run_main(capsys, "prepare", "--root", str(src), "--out", str(tmp_path / "out"), "--workers", "1")
    assert code == 2
    assert_one_line_error(err, f"{metadata.METADATA}:3", "escapes the dataset root")
    assert not (tmp_path / "out" / metadata.METADATA).exists()


def test_prepare_into_its_own_root(capsys, sample_dir):
    code, _, err = run_main(capsys, "prepare", "--root", str(sample_dir), "--out", str(sample_dir / "."))
    assert code == 2
    assert_one_line_error(err, "--out must differ from --root")


def test_download_offline_hub(tmp_path):
    """With the hub offline (and an empty cache) the download says so in one line, quickly."""
    env = {"HF_HOME": str(tmp_path / "hf-home"), "HF_DATASETS_CACHE": str(tmp_path / "hf-datasets")}
    result = run_module("download", "--dataset", "huggan/wikiart", "--out", str(tmp_path / "hub"), "--limit", "3",
                        env=env, timeout=60)
    assert result.returncode == 2, result.stderr
    line = assert_one_line_error(result.stderr, "huggan/wikiart", "hub")
    assert "offline" in line.lower() or "internet" in line.lower()
    assert not list((tmp_path / "hub").rglob("*.jpg"))


def test_download_missing_local_parquet_folder(tmp_path, capsys):
    empty = tmp_path / "mirror"
    empty.mkdir()  # a folder with no parquet files
    code, _, err = run_main(capsys, "download", "--dataset", str(empty), "--out", str(tmp_path / "out"))
    assert code == 2
    assert_one_line_error(err, "cannot open")


def test_extract_missing_and_bad_zip(tmp_path, capsys):
    code, _, err = run_main(capsys, "extract", "--zip", str(tmp_path / "wikiart.zip"), "--out", str(tmp_path / "x"))
    assert code == 2
    assert_one_line_error(err, "wikiart.zip not found")
    fake = tmp_path / "fake.zip"
    fake.write_text("not a zip\n")
    code, _, err = run_main(capsys, "extract", "--zip", str(fake), "--out", str(tmp_path / "x"))
    assert code == 2
    assert_one_line_error(err, "not a readable zip archive")


def test_extract_summary(tmp_path, capsys, caplog):
    import zipfile
    archive = tmp_path / "wikiart.zip"
    with zipfile.ZipFile(archive, "w") as zf:
        zf.writestr("wikiart/Baroque/rembrandt_a.jpg", b"abc")
        zf.writestr("../evil.jpg", b"evil")
    code, out, err = run_main(capsys, "extract", "--zip", str(archive), "--out", str(tmp_path / "ds"))
    assert code == 0, err
    assert "extracted 1 new files" in out and "1 members refused" in out
    assert any("../evil.jpg" in r.getMessage() and "escape" in r.getMessage() for r in caplog.records)
    assert (tmp_path / "ds" / "Baroque" / "rembrandt_a.jpg").read_bytes() == b"abc"
    assert not (tmp_path / "evil.jpg").exists()


def test_reproduce_caps_reach_reproduce(monkeypatch):
    """`reproduce --caps epochs=2,train_limit=64` hands typed values to `reproduce.reproduce`; bad text is
    a one-line argparse error."""
    from wikiart_utils import reproduce
    seen = {}
    monkeypatch.setattr(reproduce, "reproduce", lambda *args, **kwargs: seen.update(args=args, kwargs=kwargs))
    assert cli.main(["reproduce", "--profile", "full", "--data", "d", "--only", "03", "--caps", "epochs=2,train_limit=64"]) == 0
    assert seen["args"] == ("d", "full", ["03"], None) and seen["kwargs"] == {"caps": {"epochs": 2, "train_limit": 64}}
    with pytest.raises(SystemExit):
        cli.main(["reproduce", "--caps", "epochs"])

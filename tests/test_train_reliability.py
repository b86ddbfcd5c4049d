"""Reliability of `train`: kill -9 then --resume, a full disk while saving, steady file descriptors and
memory over epochs with DataLoader workers, and --resume refusing a foreign checkpoint.

`load_checkpoint` itself refusing a format-version or vocabulary mismatch is tested in test_train.py
(test_checkpoint_errors_are_one_line); here the same refusals go through `train --resume`.
"""
from __future__ import annotations

import errno
import gc
import io
import os
import subprocess
import sys
import time
from pathlib import Path

import pandas as pd
import pytest
import torch

from wikiart_utils import checkpoint, cli, labels, models, train

REPO_ROOT = Path(__file__).resolve().parents[1]
FAST = ["--variant", "resnet18_gap", "--image-size", "32", "--batch-size", "16", "--no-pretrained",
        "--workers", "0", "--limit-batches", "2", "--no-progress", "--seed", "0"]


@pytest.fixture
def one_thread():
    """One intra-op thread, as the subprocesses get: on two busy cores a second thread slows torch down."""
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


def env() -> dict:
    out = {**os.environ, "OMP_NUM_THREADS": "1", "TQDM_DISABLE": "1"}
    out["PYTHONPATH"] = os.pathsep.join(filter(None, [str(REPO_ROOT), out.get("PYTHONPATH")]))
    for name in ("WORLD_SIZE", "RANK", "LOCAL_RANK"):
        out.pop(name, None)
    return out


def error_lines(stderr: str) -> list[str]:
    assert "Traceback" not in stderr, stderr
    return [line for line in stderr.splitlines() if line.startswith("error:")]


def epochs_in(path: Path) -> list[int]:
    return list(pd.read_csv(path)["epoch"])


# --------------------------------------------------------------------------- (a) kill -9, then --resume

def test_kill_during_train_then_resume_completes(sample_dir, tmp_path, one_thread, kill_when):
    out = tmp_path / "run"
    args = ["-m", "wikiart_utils", "train", "--data", str(sample_dir), "--out", str(out), "--epochs", "4", *FAST]
    proc = subprocess.Popen([sys.executable, *args], cwd=REPO_ROOT, env=env(), stdout=subprocess.DEVNULL,
                            stderr=subprocess.PIPE)
    kill_when(proc, lambda: (out / "last.pt").exists(), timeout=120)  # last.pt: end of epoch 1

    _, ckpt = checkpoint.load(out / "last.pt")  # whatever moment the kill hit, last.pt is whole
    done = ckpt["epoch"]
    assert 1 <= done < 4 and len(ckpt["history"]) == done
    stale = out / ".last.pt.x1y2z3.part"  # what a kill in the middle of torch.save leaves behind
    stale.write_bytes(b"PK\x03\x04 half a checkpoint")

    resumed = subprocess.run([sys.executable, *args, "--resume"], cwd=REPO_ROOT, env=env(), capture_output=True,
                             text=True, timeout=180)
    assert resumed.returncode == 0, resumed.stderr[-3000:]
    assert f"after epoch {done}" in resumed.stdout
    assert epochs_in(out / "history.csv") == [1, 2, 3, 4]  # every epoch once
    model, last = checkpoint.load(out / "last.pt")
    assert last["epoch"] == 4 and [row["epoch"] for row in last["history"]] == [1, 2, 3, 4]
    assert not list(out.glob(".*.part"))

    # and the weights are those of a run never interrupted (CPU, workers=0: RNG states travel in last.pt)
    whole = train.train(sample_dir, "resnet18_gap", tmp_path / "whole", epochs=4, image_size=32, batch_size=16,
                        pretrained=False, workers=0, limit_batches=2, progress=False, seed=0)
    reference, _ = checkpoint.load(whole.last_path)
    a, b = model.state_dict(), reference.state_dict()
    assert all(torch.equal(a[k], b[k]) for k in a)


# --------------------------------------------------------------------------- (b) disk full while saving

def test_disk_full_while_saving_keeps_previous_checkpoint(sample_dir, tmp_path, capsys, monkeypatch, one_thread):
    out = tmp_path / "run"
    real_save = torch.save
    failed = []

    def save(obj, f, *args, **kwargs):  # epoch 2's first checkpoint: half the bytes, then ENOSPC
        if isinstance(obj, dict) and obj.get("epoch") == 2:
            buffer = io.BytesIO()
            real_save(obj, buffer, *args, **kwargs)
            Path(f).write_bytes(buffer.getvalue()[: len(buffer.getvalue()) // 2])
            failed.append(Path(f))
            raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC), str(f))
        return real_save(obj, f, *args, **kwargs)

    monkeypatch.setattr(torch, "save", save)
    argv = ["train", "--data", str(sample_dir), "--out", str(out), "--epochs", "3", *FAST]
    assert cli.main(argv) == 2
    lines = error_lines(capsys.readouterr().err)
    assert len(lines) == 1 and "no space left" in lines[0].lower() and str(out) in lines[0], lines
    assert failed and failed[0].parent == out and failed[0].name.endswith(".part")
    assert not list(out.glob(".*.part"))  # the half-written file is gone, never renamed into place
    for name in ("last.pt", "best.pt"):
        _, ckpt = checkpoint.load(out / name)  # still epoch 1's, whole
        assert ckpt["epoch"] == 1
    assert epochs_in(out / "history.csv") == [1]

    monkeypatch.setattr(torch, "save", real_save)  # space freed: the same command with --resume finishes
    assert cli.main([*argv, "--resume"]) == 0
    assert epochs_in(out / "history.csv") == [1, 2, 3]
    assert checkpoint.load(out / "last.pt")[1]["epoch"] == 3


# --------------------------------------------------------------------------- (c) fds and memory over epochs

def open_fds() -> int:
    return len(os.listdir("/proc/self/fd"))


def memory_mib(pid: int | str = "self", field: str = "VmRSS", file: str = "status") -> float:
    """VmRSS from /proc/PID/status, or Pss (shared pages split among their users) from smaps_rollup."""
    try:
        for line in Path(f"/proc/{pid}/{file}").read_text().splitlines():
            if line.startswith(f"{field}:"):
                return int(line.split()[1]) / 1024
    except OSError:  # the process ended meanwhile
        pass
    return 0.0


def rss_mib(pid: int | str = "self") -> float:
    return memory_mib(pid)


def pss_mib(pid: int | str) -> float:
    return memory_mib(pid, "Pss", "smaps_rollup")


def children() -> list[int]:
    """Live child processes of this one (the DataLoader workers)."""
    me, found = os.getpid(), []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                stat = (entry / "stat").read_text()
            except OSError:
                continue
            if int(stat.rsplit(")", 1)[1].split()[1]) == me:
                found.append(int(entry.name))
    return found


@pytest.mark.skipif(not Path("/proc/self/fd").is_dir(), reason="needs Linux /proc")
def test_no_fd_or_memory_growth_over_epochs_with_workers(sample_dir, tmp_path, monkeypatch, one_thread):
    samples = []
    write_history = train.write_history

    def measure(history, out, *curves):  # called once at the end of each epoch, after the checkpoints
        write_history(history, out, *curves)
        workers = children()
        samples.append({"epoch": len(history), "fds": open_fds(), "rss_mib": round(rss_mib(), 1),
                        "workers": len(workers), "workers_pss_mib": round(sum(map(pss_mib, workers)), 1)})

    monkeypatch.setattr(train, "write_history", measure)
    gc.collect()
    before = {"fds": open_fds(), "rss_mib": round(rss_mib(), 1), "workers": len(children())}
    result = train.train(sample_dir, "resnet18_gap", tmp_path / "run", epochs=3, image_size=32, batch_size=32,
                         pretrained=False, workers=2, progress=False, seed=0)
    assert result.epochs_done == 3
    gc.collect()
    deadline = time.monotonic() + 10
    while len(children()) > before["workers"] and time.monotonic() < deadline:  # workers exit with their loader
        time.sleep(0.05)
    after = {"fds": open_fds(), "rss_mib": round(rss_mib(), 1), "workers": len(children())}
    print(f"\nbefore train: {before}")
    for row in samples:
        print(f"end of epoch {row['epoch']}: {row}")
    print(f"after train returned: {after}")

    assert [row["workers"] - before["workers"] for row in samples] == [4, 4, 4]  # 2 train + 2 val, persistent
    assert samples[2]["fds"] <= samples[1]["fds"]  # no descriptor leaks from one epoch to the next
    assert samples[2]["rss_mib"] - samples[1]["rss_mib"] < 64
    assert after["workers"] == before["workers"]  # no worker outlives train()
    assert after["fds"] <= before["fds"] + 2


# --------------------------------------------------------------------------- (d) --resume of a foreign last.pt

@pytest.mark.parametrize("kind", ["format", "vocab"])
def test_resume_refuses_foreign_checkpoint(sample_dir, tmp_path, capsys, kind):
    out = tmp_path / "run"
    model = models.build_model("resnet18_gap", image_size=32)
    if kind == "format":
        ckpt, message = checkpoint.model_checkpoint(model, format_version=checkpoint.FORMAT_VERSION + 1), "format version"
    else:
        vocab = {t: labels.vocab(t) for t in labels.TASKS}
        vocab["genre"] = list(reversed(vocab["genre"]))
        ckpt, message = checkpoint.model_checkpoint(model, vocab=vocab), "genre vocabulary differs"
    checkpoint.save(ckpt, out / "last.pt")
    kept = (out / "last.pt").read_bytes()
    assert cli.main(["train", "--data", str(sample_dir), "--out", str(out), "--epochs", "1", *FAST, "--resume"]) == 2
    lines = error_lines(capsys.readouterr().err)
    assert len(lines) == 1 and message in lines[0] and "last.pt" in lines[0], lines
    assert (out / "last.pt").read_bytes() == kept  # refused, not replaced

"""DDP: `torchrun --nproc_per_node=2 -m wikiart_utils train` on CPU (gloo, loopback only).

Two processes of batch 16 against one process of batch 32 (the same global batch), on a copy of the
sample with 82 validation images. The backbone stays frozen for the first two epochs: that exercises
DDP's unused-parameter path (and its unfreezing), and keeps those epochs comparable, since a randomly
initialised backbone trained from scratch on a handful of steps gives val scores that swing by 0.3
between runs with different data orders.
"""
from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest
import torch

from wikiart_utils import checkpoint, data as wdata, engine, metadata, models, train
from wikiart_utils.speed import distributed

REPO_ROOT = Path(__file__).resolve().parents[1]
ARGS = ["--variant", "resnet18_gap", "--epochs", "3", "--image-size", "32", "--no-pretrained", "--workers", "0",
        "--no-progress", "--freeze-backbone", "2", "--seed", "0"]


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def torchrun(*args: str, nproc: int = 2) -> subprocess.CompletedProcess:
    env = {**os.environ, "OMP_NUM_THREADS": "1", "TQDM_DISABLE": "1", "MASTER_ADDR": "127.0.0.1"}
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(REPO_ROOT), env.get("PYTHONPATH")]))
    if Path("/sys/class/net/lo").exists():
        env["GLOO_SOCKET_IFNAME"] = "lo"  # loopback only
    cmd = [sys.executable, "-m", "torch.distributed.run", f"--nproc_per_node={nproc}", "--master_addr=127.0.0.1",
           f"--master_port={free_port()}", "-m", "wikiart_utils", *args]
    proc = subprocess.run(cmd, cwd=REPO_ROOT, env=env, capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-5000:]
    return proc


@pytest.fixture(scope="module")
def wide_val(sample_dir, tmp_path_factory) -> Path:
    """The sample with 2 in 5 paintings moved to val (121 train / 82 val): steadier val metrics."""
    root = tmp_path_factory.mktemp("ddp") / "wikiart"
    shutil.copytree(sample_dir, root)
    meta = pd.read_csv(root / metadata.METADATA, keep_default_na=False)
    meta["split"] = ["val" if i % 5 < 2 else "train" for i in range(len(meta))]
    meta.to_csv(root / metadata.METADATA, index=False)
    return root


def test_ddp_two_processes_match_one(wide_val, tmp_path):
    if not torch.distributed.is_available() or not torch.distributed.is_gloo_available():
        pytest.skip("torch.distributed with gloo is not available")
    out = tmp_path / "ddp"
    common = ["train", "--data", str(wide_val), "--out", str(out), "--batch-size", "16", *ARGS]
    first = torchrun(*common, "--stop-after", "2")
    assert "DDP over 2 processes of batch 16" in first.stdout
    assert first.stdout.count("best epoch") == 1 and first.stdout.count("epoch 1/3") == 1  # rank 0 alone prints

    # after two frozen epochs the backbone is exactly the initial one: no gradient, no weight decay
    torch.manual_seed(0)
    initial = models.build_model("resnet18_gap", image_size=32)
    model, ckpt = checkpoint.load(out / "last.pt")  # a DDP checkpoint loads in one process
    assert not any(k.startswith("module.") for k in ckpt["model"])
    before, after = initial.backbone.state_dict(), model.backbone.state_dict()
    assert all(torch.equal(before[k], after[k]) for k in before)
    assert not torch.equal(initial.heads["style"].weight, model.heads["style"].weight)

    second = torchrun(*common, "--resume")  # epoch 3 trains the backbone too
    assert "resuming resnet18_gap" in second.stdout and "DDP over 2" in second.stdout
    model, ckpt = checkpoint.load(out / "last.pt")
    assert not torch.equal(before["features.0.weight"], model.backbone.state_dict()["features.0.weight"])
    ddp_history = pd.read_csv(out / "history.csv")
    assert list(ddp_history["epoch"]) == [1, 2, 3] and len(ckpt["history"]) == 3
    assert not list(out.glob(".*.part"))

    # the pooled validation is that of the whole val set: validate rank 0's model in one process
    val_loader = wdata.make_loader(wdata.WikiArtDataset(wide_val, "val", 32), 16, workers=0)
    single_view = engine.validate(model, val_loader, torch.device("cpu"))
    for key, value in single_view.items():
        if key == "val_loss":  # batch means weighted by batch size: the shards batch differently
            assert ckpt["metrics"][key] == pytest.approx(value, rel=0.02), key
        else:
            assert ckpt["metrics"][key] == pytest.approx(value, abs=1e-9), key

    # one process, same global batch
    threads = torch.get_num_threads()
    torch.set_num_threads(1)  # as each torchrun process: two threads on two busy cores only slow it down
    try:
        one = train.train(wide_val, "resnet18_gap", tmp_path / "one", epochs=3, image_size=32, batch_size=32,
                          pretrained=False, workers=0, progress=False, freeze_backbone=2, seed=0, stop_after=2)
    finally:
        torch.set_num_threads(threads)
    single = pd.DataFrame(one.history)
    print("\nDDP 2x16:\n" + ddp_history[["epoch", "train_loss", "val_loss", "val_style_acc", "val_genre_acc"]]
          .to_string(index=False) + "\none process x32:\n"
          + single[["epoch", "train_loss", "val_loss", "val_style_acc", "val_genre_acc"]].to_string(index=False))
    for epoch in (0, 1):  # the frozen epochs
        assert ddp_history["train_loss"][epoch] == pytest.approx(single["train_loss"][epoch], rel=0.15)
        assert ddp_history["val_loss"][epoch] == pytest.approx(single["val_loss"][epoch], rel=0.15)
        assert abs(ddp_history["val_style_acc"][epoch] - single["val_style_acc"][epoch]) <= 0.1


def test_ddp_batch_with_no_decodable_image_on_one_rank_does_not_hang(sample_dir, tmp_path):
    """Batch size 1, half the training images corrupt: at some steps one rank has nothing to train on
    while the other all-reduces gradients. It steps on a blank batch (zero loss) instead of hanging."""
    if not torch.distributed.is_available() or not torch.distributed.is_gloo_available():
        pytest.skip("torch.distributed with gloo is not available")
    root = tmp_path / "wikiart"
    shutil.copytree(sample_dir, root)
    train_set = wdata.WikiArtDataset(root, "train", 64)
    broken = set(range(0, len(train_set), 2))
    for i in broken:
        (root / train_set.paths[i]).write_bytes(b"not a jpeg")
    shards = [list(torch.utils.data.DistributedSampler(train_set, 2, rank, shuffle=True, seed=0))[:8]
              for rank in (0, 1)]
    assert any((a in broken) != (b in broken) for a, b in zip(*shards))  # the case this test is about
    out = tmp_path / "run"
    torchrun("train", "--data", str(root), "--out", str(out), "--variant", "resnet18_gap", "--epochs", "1",
             "--image-size", "64", "--batch-size", "1", "--limit-batches", "8", "--no-pretrained", "--workers", "0",
             "--no-progress", "--seed", "0")
    _, ckpt = checkpoint.load(out / "last.pt")
    assert ckpt["epoch"] == 1 and all(torch.isfinite(v).all() for v in ckpt["model"].values())


def test_single_process_is_untouched(monkeypatch):
    """No torchrun environment: no process group, and `train` is the plain function."""
    monkeypatch.delenv("WORLD_SIZE", raising=False)
    assert not distributed.requested() and distributed.current() is None
    with distributed.session("cpu") as ddp:
        assert ddp is None and not torch.distributed.is_initialized()
    monkeypatch.setenv("WORLD_SIZE", "1")
    assert not distributed.requested()
    assert distributed.backend_for("cpu") == "gloo"

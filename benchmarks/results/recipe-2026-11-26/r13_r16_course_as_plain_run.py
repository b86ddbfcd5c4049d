"""Experiment only (r13, r16, r20, r21): the course's run with weight decay on every parameter, norms and
biases too, as the plain loop; with --onecycle (r16) also torch's OneCycleLR (momentum cycling) instead of warm-up +
cosine. Other arguments go to recipe_vs_plain.py (r16 added --course-arg "model_options={'dropout': 0.0}")."""
import sys
import torch
sys.path.insert(0, "benchmarks")
from wikiart_utils import train

original = train.param_groups


def param_groups(model, lr, backbone_lr, weight_decay):
    groups = original(model, lr, backbone_lr, weight_decay)
    for g in groups:
        g["weight_decay"] = weight_decay
    return groups


def make_optimizer(model, args, steps_per_epoch, device):
    groups = train.param_groups(model, args["lr"], args["lr"] * args["backbone_lr_scale"], args["weight_decay"])
    optimizer = torch.optim.AdamW(groups, lr=args["lr"], fused=device.type == "cuda")
    total = args["epochs"] * steps_per_epoch
    scheduler = torch.optim.lr_scheduler.OneCycleLR(optimizer, max_lr=[g["lr"] for g in groups], total_steps=total)
    return optimizer, scheduler


train.param_groups = param_groups
if "--onecycle" in sys.argv:
    sys.argv.remove("--onecycle")
    train.make_optimizer = make_optimizer
import recipe_vs_plain  # noqa: E402
recipe_vs_plain.main()

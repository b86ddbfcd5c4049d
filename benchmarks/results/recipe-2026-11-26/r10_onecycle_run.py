"""Experiment only: the course's run with torch's OneCycleLR (as the plain loop) instead of warmup_cosine.

Historical record (2026-11-26, written for the dict `args` of that day's `train.make_optimizer`): the schedule is
now a setting, so today the same run is `recipe_vs_plain.py ... --course-arg "schedule='onecycle'"`."""
import sys
import torch
sys.path.insert(0, "benchmarks")
from wikiart_utils import train

def make_optimizer(model, args, steps_per_epoch, device):
    groups = train.param_groups(model, args["lr"], args["lr"] * args["backbone_lr_scale"], args["weight_decay"])
    optimizer = torch.optim.AdamW(groups, lr=args["lr"], fused=device.type == "cuda")
    total = args["epochs"] * steps_per_epoch
    scheduler = torch.optim.lr_scheduler.OneCycleLR(optimizer, max_lr=[g["lr"] for g in groups], total_steps=total)
    return optimizer, scheduler

train.make_optimizer = make_optimizer
import recipe_vs_plain
recipe_vs_plain.main()

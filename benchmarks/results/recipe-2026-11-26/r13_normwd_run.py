"""Experiment only: the course's run with weight decay on every parameter (norms and biases too), as the plain loop."""
import sys
sys.path.insert(0, "benchmarks")
from wikiart_utils import train

original = train.param_groups

def param_groups(model, lr, backbone_lr, weight_decay):
    groups = original(model, lr, backbone_lr, weight_decay)
    for g in groups:
        g["weight_decay"] = weight_decay
    return groups

train.param_groups = param_groups
import recipe_vs_plain
recipe_vs_plain.main()

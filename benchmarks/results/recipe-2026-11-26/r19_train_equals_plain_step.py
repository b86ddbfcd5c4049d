"""Experiment (2026-11-26): is train.train on style alone, with weight decay on every parameter and OneCycleLR, step
for step the plain loop of r19? 4 batches x 2 epochs on the real subset; printed "max abs weight difference: 0.0".
The run's checkpoint folder, an absolute path of that machine, is written as OUT (eqrun in the temporary folder)."""
import os, sys, tempfile, torch, shutil
sys.path.insert(0, "benchmarks")
from wikiart_utils import data, engine, labels, losses, metadata, models, splits, train
root, size, bs, seed, LIM, EP = "data/wikiart-subset-112", 96, 32, 0, 4, 2

def param_groups(model, lr, backbone_lr, weight_decay):
    groups = orig(model, lr, backbone_lr, weight_decay)
    for g in groups: g["weight_decay"] = weight_decay
    return groups
orig = train.param_groups
def make_optimizer(model, args, steps_per_epoch, device):
    groups = param_groups(model, args["lr"], args["lr"], args["weight_decay"])
    opt = torch.optim.AdamW(groups, lr=args["lr"])
    return opt, torch.optim.lr_scheduler.OneCycleLR(opt, max_lr=[g["lr"] for g in groups], total_steps=args["epochs"] * steps_per_epoch)
train.make_optimizer = make_optimizer
OUT = os.path.join(tempfile.gettempdir(), "eqrun")
shutil.rmtree(OUT, ignore_errors=True)
run = train.train(root, "resnet18_gap", OUT, epochs=EP, image_size=size, batch_size=bs, pretrained=False,
                  seed=seed, workers=1, train_limit=6000, progress=False, limit_batches=LIM,
                  task_weights={"artist": 0.0, "genre": 0.0, "style": 1.0})
course_sd = torch.load(os.path.join(OUT, "last.pt"), weights_only=False)["model"]

# r19 path
meta = metadata.read_metadata(root)
rows = splits.stratified_part(meta[meta["split"] == "train"], 6000)
torch.manual_seed(seed)
net = models.build_model("resnet18_gap", pretrained=False, image_size=size)
cs = data.WikiArtDataset(root, "train", size)
pos = {p: i for i, p in enumerate(cs.paths)}
cs = torch.utils.data.Subset(cs, [pos[p] for p in rows["path"]])
loader = data.make_loader(cs, bs, shuffle=True, workers=1, seed=seed, drop_last=True)
opt = torch.optim.AdamW(net.parameters(), lr=2e-3, weight_decay=0.05)
sched = torch.optim.lr_scheduler.OneCycleLR(opt, max_lr=2e-3, total_steps=EP * LIM)
crit = losses.MultitaskLoss(task_weights={"artist": 0.0, "genre": 0.0, "style": 1.0})
for e in range(EP):
    loader.generator.manual_seed(seed + e)
    engine.train_one_epoch(net, crit, opt, loader, torch.device("cpu"), sched, max_steps=LIM)
sd = net.state_dict()
diff = max((sd[k].float() - course_sd[k].float()).abs().max().item() for k in sd)
print("max abs weight difference:", diff)

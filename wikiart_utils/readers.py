"""Readers: how a painting's tokens [B, T, D] become the one vector [B, dim] the task heads read.

The course's question is what *reading* the tokens buys over averaging them, so each reader here is one
answer to it, all with the same interface (`reader(tokens) -> [B, reader.dim]`):

* `SequenceReader`: LayerNorm -> LSTM over the tokens in order -> last state, mean over steps or attention
  over steps (`readout`); with `recurrent=False` the plain average of the tokens, the baseline every other
  reader has to beat. `order="shuffled"` feeds the LSTM the same tokens in one fixed random permutation:
  the control that tells whether the order carries anything.
* `AttentionPool`: a few learned queries, each a softmax-weighted average of the tokens (no LSTM); with
  its queries at zero, as it starts, every weight is 1/T and it *is* the average.
* `StageStats`: the per-channel mean and standard deviation of every backbone stage (the statistics
  neural style transfer calls a painting's "style"), standardised feature by feature, beside the average
  (the last stage's mean is the average of the final tokens).
* `DepthLSTM`: the same statistics read as a sequence over depth, one token per stage from the first
  stage to the last: a CNN-LSTM whose order has a meaning (and `order="shuffled"` its control).

A reader may carry a `front`: backbone stages that train (`models.build_model(..., tuned_stages=N)`),
run on the cached input of those stages before the reader proper.
"""
from __future__ import annotations

import contextlib
import functools

import torch
from torch import nn

from .config import ORDERS, READOUTS

ORDER_SEED = 0  # the shuffled order is torch.randperm(T) drawn from a generator seeded with this


def no_autocast(device: torch.device):
    if device.type in ("cuda", "cpu"):
        return torch.autocast(device.type, enabled=False)
    return contextlib.nullcontext()


@functools.lru_cache(maxsize=None)
def shuffled_order(length: int) -> torch.Tensor:
    """The fixed random permutation of `length` token positions that `order="shuffled"` reads in: the same
    on every call, run and machine (a seeded CPU generator), so a checkpoint needs to store nothing."""
    return torch.randperm(length, generator=torch.Generator().manual_seed(ORDER_SEED))


def reorder(tokens: torch.Tensor, order: str) -> torch.Tensor:
    """`tokens` [B, T, D] in their natural order, or in the fixed shuffled one."""
    if order not in ORDERS:
        raise ValueError(f"order must be one of {', '.join(ORDERS)}, got {order!r}")
    if order == "natural":
        return tokens
    return tokens[:, shuffled_order(tokens.shape[1]).to(tokens.device)]


class SequenceReader(nn.Module):
    """LayerNorm -> LSTM -> one vector per image ("last" hidden state, "mean" over steps, or
    "attention"-weighted sum). With `recurrent=False` it is a plain average of the tokens (GAP).

    The LayerNorm matters: post-ReLU CNN activations are large and non-negative and would saturate
    the LSTM gates of a freshly initialised LSTM.
    """

    def __init__(self, dim: int, recurrent: bool = True, lstm_layers: int = 1, hidden_size: int = 256,
                 bidirectional: bool = False, readout: str = "last", dropout: float = 0.2,
                 order: str = "natural"):
        super().__init__()
        if readout not in READOUTS:
            raise ValueError(f"readout must be one of {', '.join(READOUTS)}, got {readout!r}")
        reorder(torch.zeros(1, 1, 1), order)  # refuses an unknown order now, not at the first batch
        self.recurrent, self.readout, self.order = recurrent, readout, order
        self.dim = dim
        if recurrent:
            self.norm = nn.LayerNorm(dim)
            self.lstm = nn.LSTM(dim, hidden_size, lstm_layers, batch_first=True, bidirectional=bidirectional,
                                dropout=dropout if lstm_layers > 1 else 0.0)
            self.dim = hidden_size * (2 if bidirectional else 1)
            if readout == "attention":
                self.score = nn.Sequential(nn.Linear(self.dim, 128), nn.Tanh(), nn.Linear(128, 1))

    def forward(self, tokens: torch.Tensor) -> torch.Tensor:
        if not self.recurrent:
            return tokens.mean(dim=1)
        with no_autocast(tokens.device):                        # the LSTM runs in fp32 even under AMP
            out, (h_n, _) = self.lstm(self.norm(reorder(tokens, self.order).float()))  # [B, T, dirs * hidden]
        if self.readout == "last":                              # final state of each direction, top layer
            dirs = 2 if self.lstm.bidirectional else 1
            return torch.cat(list(h_n[-dirs:]), dim=-1)
        if self.readout == "mean":
            return out.mean(dim=1)
        weights = torch.softmax(self.score(out).squeeze(-1), dim=1)
        return torch.einsum("bt,btd->bd", weights, out)


class AttentionPool(nn.Module):
    """`queries` learned queries over the tokens, each giving a softmax-weighted average of them; the heads
    read the averages side by side ([B, queries * D]).

    A query scores each token as q . W LayerNorm(token) / sqrt(key_dim) and averages the *raw* tokens with the
    softmax of those scores, so it can look at some positions more than others (the sky less than a face,
    say) without changing what a token means. The queries start at zero: every weight 1/T, the average, so
    training starts from the baseline and moves away from it only where that pays."""

    def __init__(self, dim: int, queries: int = 4, key_dim: int = 128):
        super().__init__()
        self.norm = nn.LayerNorm(dim)
        self.keys = nn.Linear(dim, key_dim, bias=False)
        self.queries = nn.Parameter(torch.zeros(queries, key_dim))
        self.scale = key_dim ** -0.5
        self.dim = queries * dim

    def weights(self, tokens: torch.Tensor) -> torch.Tensor:
        """[B, queries, T]: how much each query looks at each token (each row sums to 1)."""
        scores = torch.einsum("qk,btk->bqt", self.queries, self.keys(self.norm(tokens))) * self.scale
        return scores.softmax(dim=-1)

    def forward(self, tokens: torch.Tensor) -> torch.Tensor:
        return torch.einsum("bqt,btd->bqd", self.weights(tokens), tokens).flatten(1)


class StageStats(nn.Module):
    """The per-stage channel statistics as one vector, standardised feature by feature (BatchNorm1d: a
    logistic-regression probe's StandardScaler, learned with the heads). The tokens are one vector already
    ([B, 1, D], `models.EfficientNetLiteTokens` with `summary="stages"`)."""

    def __init__(self, dim: int):
        super().__init__()
        self.norm = nn.BatchNorm1d(dim)
        self.dim = dim

    def forward(self, tokens: torch.Tensor) -> torch.Tensor:
        return self.norm(tokens.flatten(1).float())


class DepthLSTM(nn.Module):
    """One token per backbone stage -- its channel means and standard deviations, LayerNorm-ed and projected
    to `hidden_size` (stages differ in width) -- read by an LSTM from the first stage to the last (or in the
    fixed shuffled order), last state out. `stage_dims`: the width of each stage's statistics, in order."""

    def __init__(self, stage_dims: tuple[int, ...], hidden_size: int = 256, order: str = "natural"):
        super().__init__()
        reorder(torch.zeros(1, 1, 1), order)
        self.stage_dims, self.order = tuple(stage_dims), order
        self.project = nn.ModuleList(nn.Sequential(nn.LayerNorm(d), nn.Linear(d, hidden_size))
                                     for d in self.stage_dims)
        self.lstm = nn.LSTM(hidden_size, hidden_size, batch_first=True)
        self.dim = hidden_size

    def stage_tokens(self, tokens: torch.Tensor) -> torch.Tensor:
        """[B, 1, sum(stage_dims)] -> [B, stages, hidden]: the sequence the LSTM reads, stage by stage."""
        parts = tokens.flatten(1).float().split(self.stage_dims, dim=1)
        return torch.stack([project(part) for project, part in zip(self.project, parts)], dim=1)

    def forward(self, tokens: torch.Tensor) -> torch.Tensor:
        with no_autocast(tokens.device):
            _, (h_n, _) = self.lstm(reorder(self.stage_tokens(tokens), self.order))
        return h_n[-1]


class WithFront(nn.Module):
    """`front` (backbone stages that train, on their cached input) then `reader`: what `MultitaskNet.head`
    runs when the last stages are fine-tuned. `dim` is the reader's."""

    def __init__(self, front: nn.Module, reader: nn.Module):
        super().__init__()
        self.front, self.reader = front, reader
        self.dim = reader.dim

    def forward(self, tokens: torch.Tensor) -> torch.Tensor:
        return self.reader(self.front(tokens))

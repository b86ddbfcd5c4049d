"""The lesson layer: everything the notebooks call beyond the course's core, in one place.

    from wikiart_utils import lesson
    lesson.train_and_report(...)       # notebooks 03-04: train, curves, validation table (`training`)
    lesson.control_vs_pretrained(...)  # notebooks 05-06: a random backbone beside pretrained tokens (`backbones`)
    lesson.train_readers(...)          # notebook 04: every reader on one shared token cache (`reading`)
    lesson.gallery(...)                # notebook 07: one model's errors, Grad-CAM, your painting (`evaluation`)
    lesson.paired_against(...)         # notebook 08: runs compared on the same paintings (`comparison`)

Nothing here is new machinery: short compositions of `models`, `train`, `evaluate`, `gradcam`, `metrics`,
`results` and `plots`, kept readable so a learner can open them, and written once so a fix reaches every
notebook.
"""
from .training import *  # noqa: F401,F403
from .evaluation import *  # noqa: F401,F403
from .comparison import *  # noqa: F401,F403
from .backbones import *  # noqa: F401,F403
from .reading import *  # noqa: F401,F403
from . import backbones, comparison, evaluation, reading, training  # noqa: F401

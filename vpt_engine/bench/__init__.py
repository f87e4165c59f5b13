"""Accuracy benchmark: few-shot grids of prompt variants and baselines (``vpt bench``).

* :mod:`.config`    what a grid measures (:class:`BenchConfig`, methods, cells)
* :mod:`.splits`    k images per class for training, the rest for testing
* :mod:`.baselines` linear probe, nearest class mean, full fine-tuning
* :mod:`.runner`    resumable execution, one atomically written JSON file per cell
* :mod:`.report`    mean ± std tables, JSON, auto-versus-fixed comparison
* :mod:`.plot`      the PNG chart (Pillow)
"""

from .config import AUTO, Baseline, BaselineMethod, BenchConfig, FullFinetuneConfig, VptMethod, cell_key
from .report import auto_comparison, format_tables, summarise, write_report
from .runner import BenchInterrupted, run_benchmark
from .splits import FewShotSplit, few_shot_split, split_images

__all__ = ["AUTO", "Baseline", "BaselineMethod", "BenchConfig", "BenchInterrupted", "FewShotSplit",
           "FullFinetuneConfig", "VptMethod", "auto_comparison", "cell_key", "few_shot_split", "format_tables",
           "run_benchmark", "split_images", "summarise", "write_report"]

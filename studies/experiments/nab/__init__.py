"""The Numenta Anomaly Benchmark (NAB v1.1): corpus and window reader, results writer, scorer.

:mod:`.corpus` reads NAB's series (``data/<category>/<file>.csv``) and anomaly windows
(``combined_windows.json``) and writes a detector's results in NAB's layout
(``OUT/<detector>/<category>/<detector>_<file>.csv``); :mod:`.scorer` scores results as NAB
v1.1 does (probation, scaled-sigmoid weighting, corpus-wide threshold per cost profile,
normalisation to null = 0 and perfect = 100).
"""

from studies.experiments.nab.corpus import (
    NabResults,
    NabSeries,
    Window,
    read_corpus,
    read_results,
    read_results_file,
    read_series,
    read_windows,
    results_path,
    window_labels,
    write_corpus_results,
    write_results,
)
from studies.experiments.nab.scorer import (
    NAB_PROFILES,
    CorpusScore,
    CostProfile,
    FileScore,
    ProfileScore,
    Sweep,
    normalise,
    probation_length,
    read_profiles,
    row_weights,
    scaled_sigmoid,
    score_corpus,
    score_file,
    sweep_thresholds,
)

__all__ = [
    "NAB_PROFILES",
    "CorpusScore",
    "CostProfile",
    "FileScore",
    "NabResults",
    "NabSeries",
    "ProfileScore",
    "Sweep",
    "Window",
    "normalise",
    "probation_length",
    "read_corpus",
    "read_profiles",
    "read_results",
    "read_results_file",
    "read_series",
    "read_windows",
    "results_path",
    "row_weights",
    "scaled_sigmoid",
    "score_corpus",
    "score_file",
    "sweep_thresholds",
    "window_labels",
    "write_corpus_results",
    "write_results",
]

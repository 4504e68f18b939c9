"""Ready-made networks: the classic models with their papers' parameters (COBA, CUBA,
Brunel 2000, Wang 2002, Wong & Wang 2006) and the reference workloads of
benchmarks/README.md."""

from .brunel2000 import BRUNEL_REGIMES, brunel2000_params, brunel2000_state, build_brunel2000
from .brunel_regimes import BRUNEL_REGIME_LABELS, RegimeReport, classify_brunel_regime
from .cuba import build_cuba, cuba_state
from .decision_1k import build_decision_1k, pattern_rates_hz
from .ei_coba import build_ei_coba, ei_coba_state
from .wang2002 import (
    Wang2002Parameters,
    Wang2002Protocol,
    build_wang2002,
    wang2002_inputs,
    wang2002_state,
)
from .wong_wang2006 import WongWang2006, WongWangProtocol, simulate_wong_wang

__all__ = [
    "BRUNEL_REGIMES",
    "BRUNEL_REGIME_LABELS",
    "RegimeReport",
    "Wang2002Parameters",
    "Wang2002Protocol",
    "WongWang2006",
    "WongWangProtocol",
    "brunel2000_params",
    "brunel2000_state",
    "build_brunel2000",
    "build_cuba",
    "build_decision_1k",
    "build_ei_coba",
    "build_wang2002",
    "classify_brunel_regime",
    "cuba_state",
    "ei_coba_state",
    "pattern_rates_hz",
    "simulate_wong_wang",
    "wang2002_inputs",
    "wang2002_state",
]

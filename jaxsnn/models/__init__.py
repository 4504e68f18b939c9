"""Ready-made networks (the reference workloads of benchmarks/README.md)."""

from .decision_1k import build_decision_1k, pattern_rates_hz
from .ei_coba import build_ei_coba, ei_coba_state

__all__ = ["build_decision_1k", "build_ei_coba", "ei_coba_state", "pattern_rates_hz"]

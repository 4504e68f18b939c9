"""The timing every decision trial shares (spontaneous period, stimulus, recording
windows), checked once for the protocols of `wang2002` and `wong_wang2006`."""

from __future__ import annotations

import equinox as eqx

from .._checks import check_nonnegative, check_positive


class AbstractTrialTiming(eqx.Module):
    """A trial of `onset_ms` without and `stimulus_ms` with the stimulus, stepped by
    `dt_ms` and recorded in windows of `record_ms`; each a whole number of steps."""

    dt_ms: eqx.AbstractVar[float]
    onset_ms: eqx.AbstractVar[float]
    stimulus_ms: eqx.AbstractVar[float]
    record_ms: eqx.AbstractVar[float]

    def check_timing(self) -> None:
        """Raise ValueError for a bad dt or a length that is not a whole number of steps
        (a subclass calls it first in its `__check_init__`)."""
        owner = type(self).__name__
        check_positive(f"{owner}.dt_ms", self.dt_ms)
        check_nonnegative(f"{owner}.onset_ms", self.onset_ms)
        check_positive(f"{owner}.stimulus_ms", self.stimulus_ms)
        check_positive(f"{owner}.record_ms", self.record_ms)
        for name in ("onset_ms", "stimulus_ms", "record_ms"):
            steps = getattr(self, name) / self.dt_ms
            if abs(steps - round(steps)) > 1e-9:
                raise ValueError(
                    f"{owner}.{name} must be a whole number of steps of "
                    f"dt_ms={self.dt_ms}, got {getattr(self, name)}"
                )

    @property
    def duration_ms(self) -> float:
        """Trial length (ms): onset + stimulus."""
        return self.onset_ms + self.stimulus_ms

    @property
    def n_steps(self) -> int:
        return int(round(self.duration_ms / self.dt_ms))

    @property
    def onset_step(self) -> int:
        return int(round(self.onset_ms / self.dt_ms))

    @property
    def record_every(self) -> int:
        """Steps per recording window."""
        return int(round(self.record_ms / self.dt_ms))

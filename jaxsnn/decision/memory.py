"""How much memory a training step of the decision model needs, so that an impossible
`--batch-size` is refused with a clear message instead of XLA's out-of-memory error.

Backpropagation through time keeps, for every trial, a few numbers per neuron and step
(the states the backward pass needs). XLA's own accounting of the compiled training step
(`Compiled.memory_analysis()`, temporary buffers) for the 1000-neuron, 1000-step model
gives 14.4 MB per trial (12.0 MB with `--checkpoint`), i.e. 14.4 (12.0) bytes per
neuron-step, plus a few MB that do not grow with the batch; tests/test_decision_memory.py
checks the rule against `memory_analysis` on another size. The estimate adds half again
for what the accounting leaves out (inputs, the optimiser, allocator slack).
"""

from __future__ import annotations

import os

BYTES_PER_NEURON_STEP = {False: 14.4, True: 12.0}  # by `checkpoint`
BASE_BYTES = 30e6
SAFETY = 1.5


def training_bytes(n_neurons: int, n_steps: int, batch_size: int, checkpoint: bool) -> float:
    """Estimated peak bytes of one training step (module docstring)."""
    per_trial = BYTES_PER_NEURON_STEP[bool(checkpoint)] * n_neurons * n_steps
    return SAFETY * (BASE_BYTES + per_trial * batch_size)


def available_bytes() -> float | None:
    """Memory available to a new allocation: Linux `MemAvailable`, else physical memory,
    else None (unknown)."""
    try:
        with open("/proc/meminfo") as f:
            for line in f:
                if line.startswith("MemAvailable:"):
                    return float(line.split()[1]) * 1024
    except OSError:
        pass
    try:
        return float(os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES"))
    except (ValueError, OSError, AttributeError):
        return None


def check_training_fits(
    n_neurons: int, n_steps: int, batch_size: int, checkpoint: bool, available: float | None = None
) -> None:
    """Raise ValueError, naming the largest batch that fits, if a training step of
    `batch_size` trials would not fit in the available memory."""
    available = available_bytes() if available is None else available
    if available is None:
        return
    need = training_bytes(n_neurons, n_steps, batch_size, checkpoint)
    if need <= available:
        return
    per_trial = SAFETY * BYTES_PER_NEURON_STEP[bool(checkpoint)] * n_neurons * n_steps
    fits = int((available - SAFETY * BASE_BYTES) // per_trial)
    raise ValueError(
        f"--batch-size {batch_size} needs about {need / 1e9:.1f} GB for a training step "
        f"({per_trial / 1e6:.0f} MB per trial of {n_steps} steps x {n_neurons} neurons), but "
        f"{available / 1e9:.1f} GB are available: use --batch-size {max(fits, 0)} or less"
        + ("" if checkpoint else " (or --checkpoint)")
    )

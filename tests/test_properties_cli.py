"""Property-based tests of the `jaxsnn` command line (hypothesis): random valid option
values parse to themselves; random invalid ones (negative, zero, NaN, infinite or
malformed numbers, unknown choices, seeds `jax.random.key` cannot take, lengths that are
not a whole number of steps) end in exit status 2 with a message on stderr naming the
option, before any simulation, never in a traceback from inside JAX or NumPy.

Only the parser and the checks that run before any work are exercised: every `main`
call here is refused within milliseconds. Every property runs with
`properties.examples` (derandomized: the same examples on every run and machine, so a
CI failure reproduces locally).
"""

import contextlib
import io
import math
import tempfile
from pathlib import Path

import pytest
from hypothesis import assume, given
from hypothesis import strategies as st
from properties import examples

from jaxsnn import cli

# subcommand -> options taking an integer >= 1 / a finite number > 0
POSITIVE_INTS = {
    "demo": ["--trials", "--sim-steps", "--steps"],
    "stream": ["--windows"],
    "wang2002": ["--trials", "--n-e", "--n-i", "--batch-size"],
    "decide": [
        "--train-steps",
        "--steps",
        "--batch-size",
        "--trials",
        "--n-exc",
        "--n-inh",
        "--n-out",
        "--n-in",
    ],
}
POSITIVE_FLOATS = {
    "stream": ["--window-ms", "--threshold-hz"],
    "wang2002": ["--threshold-hz", "--onset-ms", "--stimulus-ms"],
    "decide": ["--lr", "--window-ms", "--threshold-hz"],
}
CHOICES = {
    ("decide", "--task"): ("rate", "xor", "hard"),
    ("decide", "--learning"): ("gradient", "hebbian"),
}
SEED_MIN, SEED_MAX = -(2**63), 2**63 - 1
TINY = ["--n-exc", "24", "--n-inh", "6", "--n-out", "4", "--n-in", "4"]


def _pairs(table):
    return [(command, option) for command, options in table.items() for option in options]


def _dest(parser_args, option: str):
    dest = {"--sim-steps": "steps", "--train-steps": "steps"}.get(option)
    return getattr(parser_args, dest or option.lstrip("-").replace("-", "_"))


def run(argv: list[str]) -> tuple[int, str]:
    """(exit status, stderr) of `jaxsnn argv`; any other exception propagates and fails
    the test (a raw traceback is what these properties rule out)."""
    err = io.StringIO()
    with contextlib.redirect_stderr(err), contextlib.redirect_stdout(io.StringIO()):
        try:
            code = cli.main(argv)
        except SystemExit as exit_:
            code = exit_.code
    return code, err.getvalue()


def names(message: str, option: str) -> bool:
    """The message names the option, as a flag (`--n-e`) or as the argument it sets
    (`n_e`)."""
    flat = message.replace("-", "_")
    return option in message or option.lstrip("-").replace("-", "_") in flat


def refused(argv: list[str], option: str) -> None:
    code, err = run(argv)
    assert code == 2, (argv, code, err)
    assert names(err, option), (argv, err)
    assert "Traceback" not in err, err


# ----- random valid values parse to themselves -----------------------------------------


def _parse(argv):
    return cli.build_parser().parse_args(argv)


@examples(40)
@given(data=st.data())
def test_valid_numbers_parse_to_their_value(data):
    command, option = data.draw(
        st.sampled_from(_pairs(POSITIVE_INTS) + _pairs(POSITIVE_FLOATS)), label="option"
    )
    if option in POSITIVE_INTS.get(command, ()):
        value = data.draw(st.integers(1, 10**12), label="value")
        text = data.draw(st.sampled_from([str(value), f" {value}", f"+{value}"]), label="text")
    else:
        value = data.draw(st.floats(min_value=0.0, exclude_min=True, allow_infinity=False))
        text = data.draw(st.sampled_from([repr(value), f"{value:e}"]), label="text")
        value = float(text)
    args = _parse([command, f"{option}={text}"])
    assert _dest(args, option) == value


@examples(30)
@given(
    command=st.sampled_from(["demo", "stream", "wang2002", "decide"]),
    seed=st.integers(SEED_MIN, SEED_MAX),
)
def test_seeds_jax_can_take_parse(command, seed):
    assert _parse([command, f"--seed={seed}"]).seed == seed


@examples(20)
@given(values=st.lists(st.floats(0.0, 100.0), min_size=1, max_size=6))
def test_coherences_in_range_parse(values):
    args = _parse(["wang2002", "--coherences", ",".join(map(repr, values))])
    assert args.coherences == tuple(values)


@examples(10)
@given(data=st.data())
def test_choices_parse(data):
    (command, option), choices = data.draw(st.sampled_from(sorted(CHOICES.items())))
    choice = data.draw(st.sampled_from(choices))
    assert _dest(_parse([command, f"{option}={choice}"]), option) == choice


# ----- random invalid values are refused naming the option -----------------------------

NOT_NUMBERS = st.sampled_from(["", "nan", "NaN", "inf", "-inf", "abc", "1,5", "0x10", "1e"])


def not_positive_ints():
    return st.one_of(
        st.integers(max_value=0).map(str),
        st.floats(allow_nan=False, allow_infinity=False)
        .filter(lambda x: not x.is_integer())
        .map(repr),
        st.just("1e3"),
        NOT_NUMBERS,
    )


def not_positive_floats():
    return st.one_of(
        st.floats(max_value=0.0, allow_infinity=False).map(repr),
        st.just("1e400"),  # overflows to inf
        NOT_NUMBERS,
    )


@examples(60)
@given(data=st.data())
def test_invalid_numbers_are_refused_naming_the_option(data):
    command, option = data.draw(
        st.sampled_from(_pairs(POSITIVE_INTS) + _pairs(POSITIVE_FLOATS)), label="option"
    )
    bad = not_positive_ints() if option in POSITIVE_INTS.get(command, ()) else not_positive_floats()
    refused([command, f"{option}={data.draw(bad, label='value')}"], option)


@examples(20)
@given(
    command=st.sampled_from(["demo", "stream", "wang2002"]),
    seed=st.one_of(
        st.integers(SEED_MAX + 1), st.integers(max_value=SEED_MIN - 1), st.just(10**30)
    ).map(str)
    | NOT_NUMBERS
    | st.just("1.5"),
)
def test_seeds_jax_cannot_take_are_refused(command, seed):
    refused([command, f"--seed={seed}"], "--seed")


@examples(20)
@given(data=st.data())
def test_unknown_choices_are_refused(data):
    (command, option), choices = data.draw(st.sampled_from(sorted(CHOICES.items())))
    bad = data.draw(st.text(max_size=10).filter(lambda s: s not in choices))
    refused([command, f"{option}={bad}"], option)


@examples(10)
@given(st.text(min_size=1, max_size=10).filter(lambda s: not s.startswith("-")))
def test_unknown_commands_are_refused(command):
    assume(command not in ("demo", "stream", "wang2002", "decide"))
    code, err = run([command])
    assert code == 2 and "invalid choice" in err, err


@examples(20)
@given(
    values=st.lists(
        st.one_of(
            st.floats(max_value=-1e-9),  # not -0.0, which is in range
            st.floats(min_value=100.0, exclude_min=True),
            st.sampled_from([math.nan]),
        ),
        min_size=1,
        max_size=3,
    ),
    good=st.lists(st.floats(0.0, 100.0), max_size=3),
)
def test_coherences_out_of_range_are_refused(values, good):
    refused(["wang2002", "--coherences=" + ",".join(map(repr, good + values))], "--coherences")


# ----- checks that run before any work --------------------------------------------------


def not_whole_steps(dt_ms: float):
    """Lengths (ms) that are not a whole number >= 1 of steps of dt_ms."""

    def whole(x):
        n = round(x / dt_ms)
        return n >= 1 and abs(n * dt_ms - x) <= 1e-9 * x

    return st.builds(
        lambda k, frac: (k + frac) * dt_ms, st.integers(0, 10_000), st.floats(0.01, 0.99)
    ).filter(lambda x: not whole(x))


@examples(15)
@given(window_ms=not_whole_steps(0.1))
def test_stream_window_that_is_no_whole_number_of_steps_is_refused(window_ms):
    refused(["stream", f"--window-ms={window_ms!r}"], "--window-ms")


@examples(10)
@given(n_exc=st.integers(1, 50), extra=st.integers(0, 50))
def test_decide_output_population_at_least_as_large_as_e_is_refused(n_exc, extra):
    refused(["decide", f"--n-exc={n_exc}", f"--n-out={n_exc + extra}"], "--n-out")


@examples(10)
@given(window_ms=not_whole_steps(0.1))
def test_decide_window_that_is_no_whole_number_of_steps_is_refused(window_ms):
    with tempfile.TemporaryDirectory() as tmp:
        argv = ["decide", *TINY, f"--window-ms={window_ms!r}", "--out", str(Path(tmp, "o"))]
        refused(argv, "--window-ms")


@examples(15)
@given(
    data=st.data(),
    reduced=st.booleans(),
)
def test_wang2002_timing_that_is_no_whole_number_of_steps_is_refused(data, reduced):
    option = data.draw(st.sampled_from(["--onset-ms", "--stimulus-ms"]))
    value = data.draw(not_whole_steps(0.5 if reduced else 0.1))
    with tempfile.TemporaryDirectory() as tmp:
        argv = ["wang2002", f"{option}={value!r}", "--out", str(Path(tmp, "o"))]
        refused(argv + (["--reduced"] if reduced else []), option)


@examples(10)
@given(onset=st.integers(1, 100), stimulus=st.integers(1, 100), option=st.booleans())
def test_wang2002_trial_that_is_no_whole_number_of_recording_windows_is_refused(
    onset, stimulus, option
):
    # whole steps of 0.1 ms each, but together no whole number of the 1 ms windows
    assume((onset + stimulus) % 10)
    onset_ms, stimulus_ms = onset / 10, stimulus / 10
    with tempfile.TemporaryDirectory() as tmp:
        argv = ["wang2002", f"--onset-ms={onset_ms}", f"--stimulus-ms={stimulus_ms}"]
        refused([*argv, "--out", str(Path(tmp, "o"))], "--onset-ms" if option else "--stimulus-ms")


@examples(10)
@given(n_e=st.integers(1, 3))
def test_wang2002_network_too_small_for_its_pools_is_refused(n_e):
    # f = 0.15 of 3 or fewer cells rounds a selective pool to nothing
    with tempfile.TemporaryDirectory() as tmp:
        refused(["wang2002", f"--n-e={n_e}", "--out", str(Path(tmp, "o"))], "--n-e")


@pytest.mark.parametrize("seed", [str(SEED_MAX + 1), str(SEED_MIN - 1)])
def test_decide_seed_jax_cannot_take_is_refused(seed, tmp_path):
    refused(["decide", *TINY, f"--seed={seed}", "--out", str(tmp_path / "o")], "--seed")

"""The ``[solver] highs`` options of a scenario, checked against HiGHS itself.

HiGHS refuses an option it does not know (or a value of the wrong kind) by returning an error
status that the Pyomo interface does not report, so a misspelt option would be silently ignored.
:func:`check_highs_options` tries each option the scenario gives on a fresh ``highspy.Highs``
and raises one :class:`~nationcap.errors.InputError` naming every one HiGHS refuses, with the
closest option name it knows. Only ``highspy`` is imported (not Pyomo), and only when the
scenario gives options, so that an exact-engine batch loads no solver module.
"""

from __future__ import annotations

from ..config import Scenario
from ..config.messages import did_you_mean
from ..errors import Problems


def check_highs_options(scn: Scenario) -> None:
    """Raise :class:`~nationcap.errors.InputError` for every ``[solver] highs`` option HiGHS refuses."""
    if not scn.solver.highs:
        return
    try:
        import highspy
    except ImportError:  # pragma: no cover - highspy is a dependency
        return
    h = highspy.Highs()
    h.setOptionValue("output_flag", False)
    known = sorted(a for a in dir(h.getOptions()) if not a.startswith("_"))
    problems = Problems(context="scenario")
    fname = str(scn.source or "scenario")
    for name, value in scn.solver.highs.items():
        if name not in known:
            problems.add(
                fname,
                f"key 'solver.highs.{name}'",
                "",
                "HiGHS has no such option, so it would be ignored"
                + did_you_mean(
                    name,
                    known,
                    "see the HiGHS option list at https://ergo-code.github.io/HiGHS/stable/options/definitions/",
                ),
            )
        elif h.setOptionValue(name, value) != highspy.HighsStatus.kOk:
            problems.add(
                fname,
                f"key 'solver.highs.{name}'",
                "",
                f"HiGHS refuses the value {value!r} for this option (see "
                "https://ergo-code.github.io/HiGHS/stable/options/definitions/)",
            )
    problems.raise_if_any()

"""Small search settings for the USI tests: the whole suite compiles two search sizes (8 and 16
simulations at 4 considered actions), as setoption lines, CLI flags and cshogi options, without
the root's mate checks (a checked program costs ~30-80 s to compile here): the tests of the
checks turn them on."""

SEARCH_OPTIONS = {"Simulations": 16, "MaxSimulations": 16, "ConsideredActions": 4,
                  "MateChecks": "false"}
SEARCH_SETOPTIONS = tuple(f"setoption name {k} value {v}" for k, v in SEARCH_OPTIONS.items())
SEARCH_FLAGS = ("--simulations", "16", "--max-simulations", "16", "--considered-actions", "4",
                "--no-mate-checks")

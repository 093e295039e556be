"""Small search settings for the USI tests: the whole suite compiles two search sizes (8 and 16
simulations at 4 considered actions), as setoption lines, CLI flags and cshogi options. The
engine processes run without the root's mate checks (their compile at ``isready`` costs ~30 s
a process); the in-process sessions keep them (the default) and compile them once."""

SEARCH_OPTIONS = {"Simulations": 16, "MaxSimulations": 16, "ConsideredActions": 4}
SEARCH_SETOPTIONS = tuple(f"setoption name {k} value {v}" for k, v in SEARCH_OPTIONS.items())
SEARCH_FLAGS = ("--simulations", "16", "--max-simulations", "16", "--considered-actions", "4",
                "--no-mate-checks")

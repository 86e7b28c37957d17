"""Polymarket copy-trading bot."""

__version__ = "0.1.0"


def _release() -> str:
    # scripts/build-wheelhouse.py writes _release.py into the package before building the wheel,
    # so a deployed bot names the exact build it runs; it is never in the git tree
    try:
        from polymarket_bot._release import RELEASE as label
    except ModuleNotFoundError:  # a source checkout (a broken _release.py still fails loudly)
        return f"{__version__}+dev"
    return label


RELEASE: str = _release()

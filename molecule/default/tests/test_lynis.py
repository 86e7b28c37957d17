"""Lynis' hardening index for the provisioned host, printed as a figure (target ≥ 75)."""

import re

from conftest import figure


def test_lynis_hardening_index(host, name):
    with host.sudo():
        result = host.run("lynis audit system --quick --no-colors --no-log --skip-plugins")
    match = re.search(r"Hardening index : (\d+)", result.stdout)
    assert match, result.stdout[-2000:]
    index = int(match.group(1))
    figure("Lynis hardening index (≥ 75)", name, str(index))
    assert index >= 75

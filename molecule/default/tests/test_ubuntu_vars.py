"""Ubuntu 24.04's role variables load and render on both test OSes (render_ubuntu.yml):
sshd_config passes `sshd -t`, the unattended upgrades follow Ubuntu's security pockets."""

from conftest import playbook
from testlib import PROJECT


def test_ubuntu_role_vars_render_and_sshd_accepts_them(host, name):
    with host.sudo():
        rendered = host.check_output("mktemp -d")  # root-only, removed below
    result = playbook(str(PROJECT / "molecule" / "default" / "render_ubuntu.yml"), "--limit", name,
                      "-e", f"ubuntu_render_dir={rendered}")
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-2000:]
    with host.sudo():
        try:
            check = host.run(f"sshd -t -f {rendered}/sshd_config")
            sshd_config = host.file(f"{rendered}/sshd_config").content_string
            origins = host.file(f"{rendered}/50unattended-upgrades").content_string
        finally:
            host.run(f"rm -rf {rendered}")
    assert check.rc == 0, check.stderr
    assert "Subsystem sftp /usr/lib/openssh/sftp-server" in sshd_config
    assert "Match Group polymarket-admins" in sshd_config
    assert '"origin=Ubuntu,archive=${distro_codename}-security,label=Ubuntu";' in origins

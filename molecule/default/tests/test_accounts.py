"""The bot user can do nothing but run the bot; the admin user is the only way in."""


def test_bot_user_has_no_shell_no_sudo_no_keys(host):
    user = host.user("polymarket-bot")
    assert user.exists and user.shell in ("/usr/sbin/nologin", "/sbin/nologin")
    assert user.home == "/var/lib/polymarket-bot"
    assert not set(user.groups) & {"sudo", "adm", "wheel", "admin", "polymarket-admins"}
    with host.sudo():
        listing = host.run("sudo -l -U polymarket-bot").stdout
        assert "is not allowed to run sudo" in listing
        assert not host.file("/var/lib/polymarket-bot/.ssh").exists
        grants = host.run("grep -rl polymarket-bot /etc/sudoers /etc/sudoers.d")
    assert grants.stdout.strip() == ""


def test_admin_user_logs_in_by_key_only(host):
    user = host.user("deploy")
    assert user.exists and "polymarket-admins" in user.groups
    with host.sudo():
        keys = host.file(f"{user.home}/.ssh/authorized_keys")
        assert keys.exists and keys.user == "deploy" and keys.mode == 0o600
        assert keys.content_string.strip().endswith("molecule-default-admin")  # this run's key only

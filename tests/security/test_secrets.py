"""No secrets in the repository, every setting the code reads is documented in .env.example, and the
servers listen on 127.0.0.1 only (the action server above all: it runs actions for whoever calls it)."""
from __future__ import annotations

import re
import socket
import subprocess
from pathlib import Path
from typing import Dict, List, Set

import pytest

from tests.servers import Stack

ROOT = Path(__file__).resolve().parents[2]

# Values that look like real credentials, whatever the variable is called.
SECRET_PATTERNS = {
    "private key": re.compile(r"-----BEGIN (?:RSA |EC |DSA |OPENSSH )?PRIVATE KEY-----"),
    "AWS access key": re.compile(r"\b(?:AKIA|ASIA)[0-9A-Z]{16}\b"),
    "GitHub token": re.compile(r"\bgh[pousr]_[A-Za-z0-9]{36,}\b"),
    "Slack token": re.compile(r"\bxox[abprs]-[A-Za-z0-9-]{10,}"),
    "Twilio account SID": re.compile(r"\bAC[0-9a-f]{32}\b"),
    "Twilio API key": re.compile(r"\bSK[0-9a-f]{32}\b"),
    "Stripe key": re.compile(r"\b[sr]k_live_[0-9A-Za-z]{16,}"),
    "Google API key": re.compile(r"\bAIza[0-9A-Za-z_-]{35}\b"),
    "JWT": re.compile(r"\beyJ[A-Za-z0-9_-]{10,}\.eyJ[A-Za-z0-9_-]{10,}\.[A-Za-z0-9_-]{10,}"),
    "password in a URL": re.compile(r"://[^/\s:@'\"]+:(?!guest@|\{|\$|<)[^/\s:@'\"]{6,}@"),
}
# An assignment of a long literal to a name that says it is secret: `AUTH_TOKEN = "..."`, `password: ...`.
ASSIGNED_SECRET = re.compile(
    r"(?i)\b[\w.-]*(?:secret|password|passwd|api[_-]?key|auth[_-]?token|private[_-]?key)[\w.-]*\s*[:=]\s*"
    r"[\"']?([A-Za-z0-9+/_\-]{16,})[\"']?")
# Obviously fake values the tests and docs use: never a credential anywhere.
FAKE = re.compile(r"(?i)^(?:test|fake|dummy|example|not-the|changeme|generate|your|agent-pw|x{4,})")
SETTING_READ = re.compile(
    r"""(?:os\.environ\.get|os\.getenv|environ\.get|env\.get|env\.setdefault)\(\s*["']([A-Z][A-Z0-9_]+)["']"""
    r"""|os\.environ\[\s*["']([A-Z][A-Z0-9_]+)["']\s*\]"""
    r"""|env\[\s*["']([A-Z][A-Z0-9_]+)["']\s*\]"""
    r"""|\b(?:limit_)?setting\(\s*["']([A-Z][A-Z0-9_]+)["']"""
    r"""|\$\{([A-Z][A-Z0-9_]+)(?::-[^}]*)?\}""")
# Read from the environment but not settings of this project (set by the shell, CI, or the tools;
# RASA_CACHE_DIRECTORY is Rasa's own, which `make bench` points at a scratch folder for cold training).
NOT_SETTINGS = {"PATH", "HOME", "PYTHONPATH", "SANIC_HOST", "SQLALCHEMY_SILENCE_UBER_WARNING", "CI", "USER", "TERM",
                "VIRTUAL_ENV", "TMPDIR", "RASA_CACHE_DIRECTORY"}


def tracked_files() -> List[Path]:
    out = subprocess.run(["git", "ls-files", "-z"], cwd=ROOT, capture_output=True, check=True).stdout
    return [ROOT / name for name in out.decode().split("\0") if name]


def texts() -> Dict[Path, str]:
    found = {}
    for path in tracked_files():
        if not path.is_file() or path.stat().st_size > 2_000_000:
            continue
        try:
            found[path] = path.read_text("utf-8")
        except UnicodeDecodeError:
            continue  # binary files (images, the model archive is not tracked)
    return found


def test_no_secret_looking_values_are_tracked() -> None:
    names = {p.relative_to(ROOT).as_posix() for p in tracked_files()}
    assert ".env" not in names and not any(n.endswith(".pem") or n.endswith(".key") for n in names)
    problems = []
    files = texts()
    assert len(files) > 100  # the scan really read the repository
    for path, content in files.items():
        rel = path.relative_to(ROOT).as_posix()
        for label, pattern in SECRET_PATTERNS.items():
            for match in pattern.finditer(content):
                problems.append(f"{rel}: {label} {match.group(0)[:24]}...")
        for match in ASSIGNED_SECRET.finditer(content):
            value = match.group(1)
            key = match.group(0).split(value)[0].lower()
            if FAKE.match(value) or value.isupper() or "(" in match.group(0) or value.startswith("<") \
                    or value.endswith("-") or "name" in key or "ref" in key:
                # a fake value, a variable's NAME (`AUTH_TOKEN = "TWILIO_AUTH_TOKEN"`), a placeholder, a prefix
                # that random bytes are appended to, or the name of a Kubernetes secret (`secretName: ...`)
                continue
            problems.append(f"{rel}: {match.group(0)[:60]}")
    assert problems == []


def test_the_scan_recognises_secrets() -> None:
    assert SECRET_PATTERNS["Twilio account SID"].search("sid=AC" + "9f" * 16)
    assert SECRET_PATTERNS["password in a URL"].search("postgresql://app:" + "S3cretPassw0rd@db/billing")
    assert not SECRET_PATTERNS["password in a URL"].search("amqp://guest:guest@127.0.0.1")
    assert ASSIGNED_SECRET.search('TWILIO_AUTH_TOKEN="' + "f3b9c2d1e4a5b6c7d8e9f0a1b2c3d4e5" + '"')


def settings_read_by_the_code() -> Set[str]:
    found: Set[str] = set()
    for path, content in texts().items():
        rel = path.relative_to(ROOT).as_posix()
        if rel.startswith(("tests/", "web/", "docs/", "deploy/")) or not rel.endswith((".py", ".yml", ".yaml", ".sh")):
            continue
        for match in SETTING_READ.finditer(content):
            found.add(next(g for g in match.groups() if g))
    found |= set(re.findall(r'"([A-Z][A-Z0-9_]+)"', (ROOT / "bot/channels/twilio_sms.py").read_text()
                            .split("ENV_VARS = {", 1)[1].split("}", 1)[0]))
    return found - NOT_SETTINGS


def test_env_example_documents_every_setting_the_code_reads() -> None:
    documented = set(re.findall(r"^#?\s*([A-Z][A-Z0-9_]+)=", (ROOT / ".env.example").read_text(), re.M))
    read = settings_read_by_the_code()
    assert {"DATABASE_URL", "WEB_JWT_SECRET", "RATE_LIMIT_PER_SENDER_PER_MINUTE", "TWILIO_AUTH_TOKEN"} <= read
    assert sorted(read - documented) == []


def listening_addresses(port: int) -> Set[str]:
    """Local addresses of the listening TCP sockets on ``port`` (from /proc/net/tcp and tcp6)."""
    found = set()
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        for line in Path(table).read_text().splitlines()[1:]:
            local, state = line.split()[1], line.split()[3]
            address, port_hex = local.rsplit(":", 1)
            if state == "0A" and int(port_hex, 16) == port:  # 0A = LISTEN
                found.add(address)
    return found


def outside_address() -> str:
    """An address of this machine that is not loopback (how another host would reach it)."""
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as probe:
        try:
            probe.connect(("192.0.2.1", 9))  # no packet is sent: this only picks the outgoing interface
            address = probe.getsockname()[0]
        except OSError:
            address = ""
    if not address or address.startswith("127."):
        pytest.fail("this machine has no non-loopback IPv4 address to test from")
    return address


@pytest.mark.servers
def test_servers_listen_on_loopback_only(stack: Stack) -> None:
    ports = {name: int(stack.env[key]) for name, key in
             (("action server", "ACTION_SERVER_PORT"), ("Rasa server", "RASA_PORT"), ("agent API", "AGENT_PORT"))}
    outside = outside_address()
    for name, port in ports.items():
        addresses = listening_addresses(port)
        assert addresses == {"0100007F"}, f"{name} listens on {addresses} (0100007F = 127.0.0.1)"
        with socket.socket() as sock:
            sock.settimeout(3)
            assert sock.connect_ex((outside, port)) != 0, f"{name} is reachable on {outside}:{port}"
        with socket.socket() as sock:
            sock.settimeout(3)
            assert sock.connect_ex(("127.0.0.1", port)) == 0, f"{name} is not up on 127.0.0.1:{port}"


def test_defaults_bind_to_loopback() -> None:
    stack_py = (ROOT / "scripts/stack.py").read_text()
    for key in ("ACTION_SERVER_HOST", "RASA_HOST", "AGENT_HOST"):
        assert f'env.setdefault("{key}", "127.0.0.1")' in stack_py
    assert 'env["SANIC_HOST"] = env["ACTION_SERVER_HOST"]' in stack_py  # rasa-sdk's own default is 0.0.0.0

"""Run IBM's network-config-analyzer (NCA) on the same objects as our engine, and read its map.

NCA pins dependencies that conflict with the project's (PyYAML), so it lives in its own
virtualenv and runs in a long-lived child process: one warm interpreter answers many
connectivity queries, so neither side pays interpreter start-up per query.

    python3.11 -m venv .venv-nca && .venv-nca/bin/pip install network-config-analyzer==2.1.0

`NCA_PYTHON` may point at another interpreter that has NCA installed.
"""

from __future__ import annotations

import ipaddress
import json
import os
import re
import subprocess
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

ROOT = Path(__file__).resolve().parent.parent
NCA_VERSION = "2.1.0"
INSTALL_HINT = (f"python3.11 -m venv .venv-nca && .venv-nca/bin/pip install "
                f"network-config-analyzer=={NCA_VERSION}  (or set NCA_PYTHON)")

# Executed by NCA's interpreter: one JSON request per line, one JSON reply per line.
_DRIVER = r"""
import contextlib, io, json, sys, time
from nca.nca_cli import nca_main
for line in sys.stdin:
    request = json.loads(line)
    argv = ["--connectivity", "-r", request["resources"], "--output_endpoints", "pods",
            "-o", "txt_no_fw_rules", "-f", request["out"]]
    chatter = io.StringIO()
    start, cpu = time.perf_counter(), time.process_time()
    with contextlib.redirect_stdout(chatter), contextlib.redirect_stderr(chatter):
        code = nca_main(argv)
    seconds, cpu_seconds = time.perf_counter() - start, time.process_time() - cpu
    print(json.dumps({"code": code, "seconds": seconds, "cpu_seconds": cpu_seconds,
                      "log": chatter.getvalue()[-2000:]}), flush=True)
"""


def nca_python() -> Path | None:
    """The interpreter that has NCA installed, or None."""
    candidate = Path(os.environ.get("NCA_PYTHON") or ROOT / ".venv-nca" / "bin" / "python")
    return candidate if candidate.exists() else None


@dataclass
class ConnectionSet:
    """What NCA allows between two endpoints: everything, or ports per protocol."""

    everything: bool = False
    ports: dict[str, list[tuple[int, int]]] = field(default_factory=dict)

    def allows(self, port: int, protocol: str) -> bool:
        if self.everything:
            return True
        return any(low <= port <= high for low, high in self.ports.get(protocol, ()))


@dataclass
class NcaMap:
    """NCA's connectivity map: pod pairs, and address ranges to or from pods."""

    seconds: float
    cpu_seconds: float = 0.0
    pods: dict[tuple[str, str], ConnectionSet] = field(default_factory=dict)
    from_addresses: list[tuple[int, int, str, ConnectionSet]] = field(default_factory=list)
    to_addresses: list[tuple[str, int, int, ConnectionSet]] = field(default_factory=list)

    def allows(self, src: str, dst: str, port: int, protocol: str) -> bool:
        """Pod → pod, address → pod or pod → address, as NCA reports it."""
        if "/" not in src:
            value = int(ipaddress.ip_address(src))
            return any(low <= value <= high and target == dst and conns.allows(port, protocol)
                       for low, high, target, conns in self.from_addresses)
        if "/" not in dst:
            value = int(ipaddress.ip_address(dst))
            return any(low <= value <= high and origin == src and conns.allows(port, protocol)
                       for origin, low, high, conns in self.to_addresses)
        conns = self.pods.get((src, dst))
        return conns is not None and conns.allows(port, protocol)


class Nca:
    """A warm NCA process; use as a context manager."""

    def __init__(self) -> None:
        python = nca_python()
        if python is None:
            raise RuntimeError(f"network-config-analyzer is not installed: {INSTALL_HINT}")
        self._dir = tempfile.TemporaryDirectory(prefix="nca-")
        # NCA writes some diagnostics straight to the stderr it imported; keep them in a file.
        self._errors = open(Path(self._dir.name) / "stderr.txt", "w+")  # noqa: SIM115
        self._process = subprocess.Popen(
            [str(python), "-c", _DRIVER], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
            stderr=self._errors, text=True, cwd=self._dir.name)

    def __enter__(self) -> Nca:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        if self._process.poll() is None:
            self._process.stdin.close()
            self._process.wait(timeout=30)
        self._errors.close()
        self._dir.cleanup()

    def connectivity(self, objects: list[dict[str, Any]]) -> NcaMap:
        """NCA's connectivity map of namespaces, pods and NetworkPolicies (API objects)."""
        resources = Path(self._dir.name) / "resources.yaml"
        out = Path(self._dir.name) / "out.txt"
        resources.write_text(yaml.safe_dump({"apiVersion": "v1", "kind": "List",
                                             "items": objects}, sort_keys=False))
        out.unlink(missing_ok=True)
        self._process.stdin.write(json.dumps({"resources": str(resources),
                                              "out": str(out)}) + "\n")
        self._process.stdin.flush()
        reply = json.loads(self._process.stdout.readline())
        if reply["code"] != 0 or not out.exists():
            self._errors.seek(0)
            errors = self._errors.read()[-2000:]
            self._errors.seek(0)
            self._errors.truncate()
            raise RuntimeError(f"NCA failed ({reply['code']}): {reply['log']}{errors}")
        result = parse_map(out.read_text(), reply["seconds"])
        result.cpu_seconds = reply["cpu_seconds"]
        return result


_LINE = re.compile(r"^(?P<src>\S+) => (?P<dst>\S+) : (?P<conns>.+)$")
_CONN = re.compile(r"\{protocols:(?P<protocols>[A-Z]+(?:, ?[A-Z]+)*)"
                   r"(?:,dst_ports:(?P<ports>[0-9]+(?:-[0-9]+)?(?:, ?[0-9]+(?:-[0-9]+)?)*))?\}")


def parse_map(text: str, seconds: float) -> NcaMap:
    """Read NCA's `txt_no_fw_rules` connectivity output."""
    result = NcaMap(seconds)
    for line in text.splitlines():
        match = _LINE.match(line.strip())
        if not match:
            if " => " in line:
                raise ValueError(f"unexpected NCA line: {line}")
            continue
        conns = _connections(match["conns"])
        src, dst = match["src"], match["dst"]
        if _is_range(src):
            low, high = _range(src)
            result.from_addresses.append((low, high, dst, conns))
        elif _is_range(dst):
            low, high = _range(dst)
            result.to_addresses.append((src, low, high, conns))
        else:
            result.pods[(src, dst)] = _union(result.pods.get((src, dst)), conns)
    return result


def _is_range(token: str) -> bool:
    head = token.split("-")[0].split("/")[0]
    try:
        ipaddress.ip_address(head)
    except ValueError:
        return False
    return True


def _range(token: str) -> tuple[int, int]:
    if "-" in token:
        low, high = token.split("-")
        return int(ipaddress.ip_address(low)), int(ipaddress.ip_address(high))
    network = ipaddress.ip_network(token, strict=False)
    return int(network.network_address), int(network.broadcast_address)


def _connections(text: str) -> ConnectionSet:
    if text.strip() == "All connections":
        return ConnectionSet(everything=True)
    conns = ConnectionSet()
    if _CONN.sub("", text).strip(", "):
        raise ValueError(f"unexpected NCA connection set: {text}")
    for match in _CONN.finditer(text):
        ranges = [(0, 65535)]
        if match["ports"]:
            ranges = []
            for part in match["ports"].split(","):
                low, _, high = part.strip().partition("-")
                ranges.append((int(low), int(high or low)))
        for protocol in match["protocols"].split(","):
            conns.ports.setdefault(protocol.strip(), []).extend(ranges)
    return conns


def _union(first: ConnectionSet | None, second: ConnectionSet) -> ConnectionSet:
    if first is None:
        return second
    if first.everything or second.everything:
        return ConnectionSet(everything=True)
    merged = ConnectionSet(ports={k: list(v) for k, v in first.ports.items()})
    for protocol, ranges in second.ports.items():
        merged.ports.setdefault(protocol, []).extend(ranges)
    return merged

"""String formats the Kubernetes API server checks, with its own wording.

Each `*_errors` function returns the list of detail messages kube-apiserver would attach to a
field error for that value (empty when the value is acceptable), so a message shown here reads
the same as the one `kubectl apply` prints.
"""

from __future__ import annotations

import functools
import ipaddress
import re

IPNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network

_QNAME_CHAR = "[A-Za-z0-9]"
_QNAME_EXT_CHAR = "[-A-Za-z0-9_.]"
_QUALIFIED_NAME_FMT = f"({_QNAME_CHAR}{_QNAME_EXT_CHAR}*)?{_QNAME_CHAR}"
_QUALIFIED_NAME_MSG = ("must consist of alphanumeric characters, '-', '_' or '.', and must start "
                       "and end with an alphanumeric character")
_QUALIFIED_NAME_RE = re.compile(f"^{_QUALIFIED_NAME_FMT}$")

_LABEL_VALUE_FMT = f"({_QUALIFIED_NAME_FMT})?"
_LABEL_VALUE_MSG = ("a valid label must be an empty string or consist of alphanumeric characters, "
                    "'-', '_' or '.', and must start and end with an alphanumeric character")
_LABEL_VALUE_RE = re.compile(f"^{_LABEL_VALUE_FMT}$")

_DNS1123_LABEL_FMT = "[a-z0-9]([-a-z0-9]*[a-z0-9])?"
_DNS1123_LABEL_MSG = ("a lowercase RFC 1123 label must consist of lower case alphanumeric "
                      "characters or '-', and must start and end with an alphanumeric character")
_DNS1123_LABEL_RE = re.compile(f"^{_DNS1123_LABEL_FMT}$")

_DNS1123_SUBDOMAIN_FMT = f"{_DNS1123_LABEL_FMT}(\\.{_DNS1123_LABEL_FMT})*"
_DNS1123_SUBDOMAIN_MSG = ("a lowercase RFC 1123 subdomain must consist of lower case alphanumeric "
                          "characters, '-' or '.', and must start and end with an alphanumeric "
                          "character")
_DNS1123_SUBDOMAIN_RE = re.compile(f"^{_DNS1123_SUBDOMAIN_FMT}$")

_PORT_NAME_CHARSET_RE = re.compile("^[-a-z0-9]+$")
_PORT_NAME_LETTER_RE = re.compile("[a-z]")

CIDR_MESSAGE = "must be a valid CIDR value, (e.g. 10.9.8.0/24 or 2001:db8::/64)"
_IPV4_SLOPPY_RE = re.compile(r"^(\d+)\.(\d+)\.(\d+)\.(\d+)$")


def regex_error(message: str, fmt: str, *examples: str) -> str:
    """The API server's wording for a value that does not match a pattern."""
    if not examples:
        return f"{message} (regex used for validation is '{fmt}')"
    # The server joins examples as "'a',  or 'b', " (sic: two spaces); keep it byte-identical.
    shown = " or ".join(f"'{example}', " for example in examples)
    return f"{message} (e.g. {shown}regex used for validation is '{fmt}')"


def max_len_error(length: int) -> str:
    return f"must be no more than {length} characters"


def dns1123_subdomain_errors(value: str) -> list[str]:
    """Problems with `value` as a DNS-1123 subdomain (object names, label key prefixes)."""
    errors = []
    if len(value) > 253:
        errors.append(max_len_error(253))
    if not _DNS1123_SUBDOMAIN_RE.match(value):
        errors.append(regex_error(_DNS1123_SUBDOMAIN_MSG, _DNS1123_SUBDOMAIN_FMT, "example.com"))
    return errors


def dns1123_label_errors(value: str) -> list[str]:
    """Problems with `value` as a DNS-1123 label (namespace names)."""
    errors = []
    if len(value) > 63:
        errors.append(max_len_error(63))
    if not _DNS1123_LABEL_RE.match(value):
        errors.append(regex_error(_DNS1123_LABEL_MSG, _DNS1123_LABEL_FMT, "my-name", "123-abc"))
    return errors


def qualified_name_errors(value: str) -> list[str]:
    """Problems with `value` as a label key: `[prefix/]name`, prefix a DNS subdomain."""
    errors: list[str] = []
    parts = value.split("/")
    if len(parts) == 1:
        name = parts[0]
    elif len(parts) == 2:
        prefix, name = parts
        if not prefix:
            errors.append("prefix part must be non-empty")
        else:
            errors.extend("prefix part " + msg for msg in dns1123_subdomain_errors(prefix))
    else:
        return [
            "a qualified name "
            + regex_error(_QUALIFIED_NAME_MSG, _QUALIFIED_NAME_FMT, "MyName", "my.name", "123-abc")
            + " with an optional DNS subdomain prefix and '/' (e.g. 'example.com/MyName')"
        ]
    if not name:
        errors.append("name part must be non-empty")
    elif len(name) > 63:
        errors.append("name part " + max_len_error(63))
    if not _QUALIFIED_NAME_RE.match(name):
        errors.append("name part " + regex_error(
            _QUALIFIED_NAME_MSG, _QUALIFIED_NAME_FMT, "MyName", "my.name", "123-abc"))
    return errors


def label_value_errors(value: str) -> list[str]:
    """Problems with `value` as a label value (may be empty, at most 63 characters)."""
    errors = []
    if len(value) > 63:
        errors.append(max_len_error(63))
    if not _LABEL_VALUE_RE.match(value):
        errors.append(regex_error(_LABEL_VALUE_MSG, _LABEL_VALUE_FMT, "MyValue", "my_value", "12345"))
    return errors


def port_number_errors(port: int) -> list[str]:
    if 1 <= port <= 65535:
        return []
    return ["must be between 1 and 65535, inclusive"]


def port_name_errors(name: str) -> list[str]:
    """Problems with `name` as an IANA_SVC_NAME (a named container port)."""
    errors = []
    if len(name) > 15:
        errors.append(max_len_error(15))
    if not _PORT_NAME_CHARSET_RE.match(name):
        errors.append("must contain only alpha-numeric characters (a-z, 0-9), and hyphens (-)")
    if not _PORT_NAME_LETTER_RE.search(name):
        errors.append("must contain at least one letter (a-z)")
    if "--" in name:
        errors.append("must not contain consecutive hyphens")
    if name and (name[0] == "-" or name[-1] == "-"):
        errors.append("must not begin or end with a hyphen")
    return errors


def parse_cidr(value: str) -> IPNetwork | None:
    """The network `value` denotes, parsed as leniently as the API server does, or None.

    Like kube-apiserver without the StrictIPCIDRValidation gate: host bits are masked off
    ("10.0.0.7/24" is 10.0.0.0/24) and IPv4 octets or prefix lengths with leading zeros are
    read as decimal. Netmask notation, scope ids and a missing "/len" are refused, as there.
    Answers are remembered (networks are immutable): validation and the engine ask for the
    same ipBlocks again and again.
    """
    if not isinstance(value, str):
        return None
    return _parse_cidr(value)


@functools.lru_cache(maxsize=1 << 16)
def _parse_cidr(value: str) -> IPNetwork | None:
    if value.count("/") != 1:
        return None
    address, _, length = value.partition("/")
    if not length.isdigit() or not length.isascii() or "%" in address:
        return None
    match = _IPV4_SLOPPY_RE.match(address)
    if match:
        octets = [int(part) for part in match.groups()]
        if any(octet > 255 for octet in octets):
            return None
        prefix = int(length)
        if prefix > 32:
            return None
        number = (octets[0] << 24) | (octets[1] << 16) | (octets[2] << 8) | octets[3]
        return ipaddress.IPv4Network((number, prefix), strict=False)
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        return None
    prefix = int(length)
    if prefix > ip.max_prefixlen:
        return None
    return ipaddress.ip_network((ip, prefix), strict=False)


def is_strict_subnet(inner: IPNetwork, outer: IPNetwork) -> bool:
    """True when `inner` lies inside `outer` and is strictly smaller (the `except` rule)."""
    if inner.version != outer.version:
        return False
    return inner.network_address in outer and outer.prefixlen < inner.prefixlen

"""Hostile input to the policy editor: every case is refused with a clear message, never a 500,
and nothing reaches the cluster, even when the request asks to apply with a matching digest.

The cases share one demo simulator (nothing is ever written to it) to keep the set fast.
"""

from __future__ import annotations

import html

import pytest
import yaml
from django.core.cache import cache
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.urls import reverse

from console.core.models import Job
from console.policies.draft import digest_of

pytestmark = pytest.mark.django_db

BASE = {"apiVersion": "networking.k8s.io/v1", "kind": "NetworkPolicy",
        "metadata": {"name": "hostile", "namespace": "shop"},
        "spec": {"podSelector": {}, "policyTypes": ["Ingress"]}}
MIB = 1024 * 1024
SCRIPT = "<script>alert(1)</script>"


def policy(**changes) -> str:
    """BASE with dotted-path changes applied ("spec.ingress": [...]); None deletes the key."""
    obj = yaml.safe_load(yaml.safe_dump(BASE))
    for path, value in changes.items():
        *parents, last = path.split("__")
        target = obj
        for key in parents:
            target = target.setdefault(key, {})
        if value is None:
            target.pop(last, None)
        else:
            target[last] = value
    return yaml.safe_dump(obj, sort_keys=False)


def ingress(*rules) -> str:
    return policy(spec__ingress=list(rules))


def peer(p) -> str:
    return ingress({"from": [p]})


def port(p) -> str:
    return ingress({"ports": [p]})


def selector(s) -> str:
    return policy(spec__podSelector=s)


LAUGHS = "a: &a [x, x, x, x, x, x, x, x, x]\n" + "".join(
    f"{chr(98 + i)}: &{chr(98 + i)} [*{chr(97 + i)}, *{chr(97 + i)}, *{chr(97 + i)}]\n"
    for i in range(9))
DEEP_LIST = "spec: " + "[" * 200 + "]" * 200 + "\n"
DEEP_MAP = "".join("  " * i + f"k{i}:\n" for i in range(100)) + "  " * 100 + "v: 1\n"

# (id, text, fragment of the message the user must get)
SYNTAX = [
    ("unclosed-flow-list", "kind: [NetworkPolicy\n", "YAML syntax error"),
    ("unclosed-flow-map", "metadata: {name: x\n", "YAML syntax error"),
    ("mapping-in-scalar", "kind: a: b\n", "YAML syntax error"),
    ("list-then-map", "- a\nb: c\n", "YAML syntax error"),
    ("tab-indent", "spec:\n\tpodSelector: {}\n", "YAML syntax error"),
    ("unterminated-double-quote", 'metadata:\n  name: "abc\n', "YAML syntax error"),
    ("unterminated-single-quote", "metadata:\n  name: 'abc\n", "YAML syntax error"),
    ("stray-brackets", "]]]\n", "YAML syntax error"),
    ("braces", "{{{}\n", "YAML syntax error"),
    ("colons", ": : :\n", "YAML syntax error"),
    ("duplicate-directive", "%YAML 1.1\n%YAML 1.1\n---\na: 1\n", "YAML syntax error"),
    ("python-object-tag", "!!python/object/apply:os.system ['id']\n", "YAML syntax error"),
    ("python-name-tag", "kind: !!python/name:os.system\n", "YAML syntax error"),
    ("custom-tag", "kind: !Secret x\n", "YAML syntax error"),
    ("undefined-alias", "kind: *nothing\n", "YAML syntax error"),
    ("at-sign", "kind: @NetworkPolicy\n", "YAML syntax error"),
    ("backtick", "kind: `id`\n", "YAML syntax error"),
    ("control-character", "kind: Network\x07Policy\n", "control characters are not allowed"),
    ("bad-indent-dedent", "metadata:\n    name: a\n  namespace: b\n", "YAML syntax error"),
    ("block-scalar-garbage", "kind: |x\n  a\n", "YAML syntax error"),
    ("unclosed-document-flow", "--- [\n", "YAML syntax error"),
    ("question-marks", "? - a\n  - b\n: [c\n", "YAML syntax error"),
    ("binary-tag-garbage", "kind: !!binary '%%%'\n", "this editor takes only kind"),
    ("int-tag-garbage", "kind: !!int abc\n", "does not match its tag"),
    ("timestamp-tag-garbage", "kind: !!timestamp nope\n", "does not match its tag"),
]
BOMBS = [
    ("billion-laughs", LAUGHS, "alias bomb"),
    ("self-reference", "a: &a [*a]\n", "recursive alias"),
    ("merge-key-alias", "base: &b {x: 1}\nspec:\n  <<: *b\n", "kind is missing"),
    ("scalar-alias", "kind: &k NetworkPolicy\nother: *k\n", "apiVersion is missing"),
    ("alias-in-policy", policy() + "extra: &e [1]\nmore: *e\n", 'Unknown field "extra"'),
    ("deep-list", DEEP_LIST, "nested deeper than"),
    ("deep-map", DEEP_MAP, "nested deeper than"),
    ("deep-flow-map", "a: " + "{b: " * 100 + "1" + "}" * 100 + "\n", "nested deeper than"),
    ("many-documents", "---\na: 1\n" * 500, "Only one NetworkPolicy at a time"),
]
SIZES = [
    ("just-over-the-limit", "# " + "x" * MIB + "\n" + policy(), "a policy may be at most"),
    ("long-scalar-over-the-limit", "kind: " + "N" * (MIB + 10) + "\n", "a policy may be at most"),
    ("multibyte-over-the-limit", "# " + "é" * (MIB // 2 + 10) + "\n", "a policy may be at most"),
]
SHAPES = [
    ("empty", "", "The draft is empty"),
    ("only-comments", "# nothing here\n# at all\n", "The draft is empty"),
    ("only-document-markers", "---\n...\n---\n", "The draft is empty"),
    ("root-list", "- kind: NetworkPolicy\n", "this document is a list"),
    ("root-string", "hello\n", "this document is a str"),
    ("root-int", "42\n", "this document is a int"),
    ("two-documents", policy() + "---\n" + policy(), "Only one NetworkPolicy at a time"),
    ("second-document-secret", policy() + "---\nkind: Secret\n", "Only one NetworkPolicy"),
    ("kind-service", policy(kind="Service"), 'kind is "Service"'),
    ("kind-pod", policy(kind="Pod"), 'kind is "Pod"'),
    ("kind-list", policy(kind="NetworkPolicyList"), 'kind is "NetworkPolicyList"'),
    ("kind-lowercase", policy(kind="networkpolicy"), "this editor takes only kind"),
    ("kind-number", policy(kind=42), "kind is 42"),
    ("kind-list-value", policy(kind=["NetworkPolicy"]), "this editor takes only kind"),
    ("kind-missing", policy(kind=None), "kind is missing"),
    ("api-v1", policy(apiVersion="v1"), 'apiVersion is "v1"'),
    ("api-beta", policy(apiVersion="networking.k8s.io/v1beta1"), "a NetworkPolicy is apiVersion"),
    ("api-extensions", policy(apiVersion="extensions/v1beta1"), "a NetworkPolicy is apiVersion"),
    ("api-missing", policy(apiVersion=None), "apiVersion is missing"),
    ("kubesphere-nsnp", policy(apiVersion="network.kubesphere.io/v1alpha1",
                               kind="NamespaceNetworkPolicy"), 'kind is "NamespaceNetworkPolicy"'),
    ("json-wrong-kind", '{"apiVersion": "v1", "kind": "ConfigMap"}', 'kind is "ConfigMap"'),
    ("list-of-policies", "apiVersion: v1\nkind: List\nitems:\n- " + policy().replace(
        "\n", "\n  ").rstrip() + "\n", 'kind is "List"'),
]
FIELDS = [
    ("typo-podselector", policy(spec__podSelecter={}), 'Unknown field "spec.podSelecter"'),
    ("typo-ingress", policy(spec__ingres=[{}]), 'Unknown field "spec.ingres"'),
    ("typo-from", ingress({"fromm": [{"podSelector": {}}]}), 'Unknown field "spec.ingress[0].fromm"'),
    ("unknown-top-level", policy(status={"x": 1}), 'Unknown field "status"'),
    ("unknown-metadata", policy(metadata__owner="me"), 'Unknown field "metadata.owner"'),
    ("spec-list", policy(spec=[1]), "must be of type object"),
    ("spec-string", policy(spec="deny everything"), "must be of type object"),
    ("pod-selector-string", selector("app=web"), "must be of type object"),
    ("ingress-string", policy(spec__ingress="all"), "must be of type array"),
    ("from-map", ingress({"from": {"podSelector": {}}}), "must be of type array"),
    ("ports-map", ingress({"ports": {"port": 80}}), "must be of type array"),
    ("port-float", port({"port": 80.5}), "must be of type int32 or string"),
    ("port-bool", port({"port": True}), "must be of type int32 or string"),
    ("port-huge-int", port({"port": 2 ** 40}), "must be of type int32 or string"),
    ("label-value-int", policy(metadata__labels={"app": 5}), "must be of type string"),
    ("label-value-date", policy().replace("metadata:\n", "metadata:\n  labels:\n    day: 2024-01-01\n"),
     "must be of type string"),
    ("annotation-value-list", policy(metadata__annotations={"a": [1]}), "must be of type string"),
    ("port-zero", port({"port": 0}), "must be between 1 and 65535"),
    ("port-too-high", port({"port": 70000}), "must be between 1 and 65535"),
    ("port-negative", port({"port": -1}), "must be between 1 and 65535"),
    ("port-name-underscore", port({"port": "http_web"}), "spec.ingress[0].ports[0].port"),
    ("port-name-too-long", port({"port": "a" * 16}), "spec.ingress[0].ports[0].port"),
    ("end-port-below-port", port({"port": 90, "endPort": 80}), "must be greater than or equal"),
    ("end-port-with-name", port({"port": "http", "endPort": 90}), "`port` is non-numeric"),
    ("end-port-alone", port({"endPort": 90}), "`port` is not specified"),
    ("protocol-icmp", port({"protocol": "ICMP", "port": 1}), 'Unsupported value: "ICMP"'),
    ("protocol-lowercase", port({"protocol": "tcp", "port": 1}), 'Unsupported value: "tcp"'),
    ("cidr-prefix-33", peer({"ipBlock": {"cidr": "10.0.0.0/33"}}), "must be a valid CIDR value"),
    ("cidr-words", peer({"ipBlock": {"cidr": "my office"}}), "must be a valid CIDR value"),
    ("cidr-missing", peer({"ipBlock": {"except": ["10.0.0.0/8"]}}), "Required value"),
    ("except-outside", peer({"ipBlock": {"cidr": "10.0.0.0/8", "except": ["11.0.0.0/8"]}}),
     "strict subset"),
    ("except-equal", peer({"ipBlock": {"cidr": "10.0.0.0/8", "except": ["10.0.0.0/8"]}}),
     "strict subset"),
    ("except-garbage", peer({"ipBlock": {"cidr": "10.0.0.0/8", "except": ["x"]}}),
     "must be a valid CIDR value"),
    ("ipblock-and-pods", peer({"ipBlock": {"cidr": "10.0.0.0/8"}, "podSelector": {}}),
     "may not specify both ipBlock and another peer"),
    ("empty-peer", peer({}), "must specify a peer"),
    ("operator-equals", selector({"matchExpressions": [{"key": "a", "operator": "Equals",
                                                        "values": ["b"]}]}),
     "not a valid selector operator"),
    ("in-without-values", selector({"matchExpressions": [{"key": "a", "operator": "In"}]}),
     "must be specified when `operator` is 'In'"),
    ("exists-with-values", selector({"matchExpressions": [{"key": "a", "operator": "Exists",
                                                           "values": ["b"]}]}),
     "may not be specified when `operator` is 'Exists'"),
    ("label-key-space", selector({"matchLabels": {"a b": "c"}}), "spec.podSelector.matchLabels"),
    ("label-key-two-slashes", selector({"matchLabels": {"a/b/c": "d"}}),
     "spec.podSelector.matchLabels"),
    ("label-value-too-long", selector({"matchLabels": {"a": "v" * 64}}),
     "must be no more than 63 characters"),
    ("name-too-long", policy(metadata__name="a" * 254), "metadata.name"),
    ("name-uppercase", policy(metadata__name="Hostile"), "metadata.name"),
    ("name-empty", policy(metadata__name=""), "metadata.name is missing"),
    ("name-missing", policy(metadata__name=None), "metadata.name is missing"),
    ("generate-name-only", policy(metadata__name=None, metadata__generateName="h-"),
     "a generateName is not enough"),
    ("namespace-missing", policy(metadata__namespace=None), "metadata.namespace is missing"),
    ("namespace-invalid", policy(metadata__namespace="Shop"), "metadata.namespace"),
    ("namespace-unknown", policy(metadata__namespace="no-such-project"),
     "There is no project no-such-project you can change"),
    ("policy-types-unknown", policy(spec__policyTypes=["Both"]), 'Unsupported value: "Both"'),
    ("policy-types-three", policy(spec__policyTypes=["Ingress", "Egress", "Ingress"]),
     "may not specify more than two policyTypes"),
    ("annotation-key-invalid", policy(metadata__annotations={"-bad": "x"}),
     "metadata.annotations"),
]
SCRIPTS = [
    ("script-name", policy(metadata__name=SCRIPT), "metadata.name"),
    ("script-namespace", policy(metadata__namespace=SCRIPT), "metadata.namespace"),
    ("script-kind", policy(kind=SCRIPT), "this editor takes only kind"),
    ("script-api-version", policy(apiVersion=SCRIPT), "a NetworkPolicy is apiVersion"),
    ("script-field-name", policy(spec__podSelector={}, **{"spec__" + SCRIPT: 1}), "Unknown field"),
    ("script-label-value", selector({"matchLabels": {"app": SCRIPT}}), "matchLabels"),
    ("script-label-key", selector({"matchLabels": {SCRIPT: "x"}}), "matchLabels"),
    ("script-port-name", port({"port": SCRIPT}), "spec.ingress[0].ports[0].port"),
    ("script-cidr", peer({"ipBlock": {"cidr": SCRIPT}}), "must be a valid CIDR value"),
    ("script-protocol", port({"protocol": SCRIPT, "port": 1}), "Unsupported value"),
    ("script-in-yaml-error", f"kind: [{SCRIPT}\n", "YAML syntax error"),
    ("img-onerror-name", policy(metadata__name='<img src=x onerror="alert(1)">'), "metadata.name"),
]
CASES = SYNTAX + BOMBS + SIZES + SHAPES + FIELDS + SCRIPTS


@pytest.fixture(scope="module")
def shared_demo():
    from kubesim import SimulatorServer

    server = SimulatorServer(seed="demo")
    server.start()
    yield server
    server.stop()


@pytest.fixture
def alice(settings, shared_demo, client, django_user_model):
    settings.KUBE_API_URL = shared_demo.url
    settings.KUBECONFIG = ""
    cache.clear()
    client.force_login(django_user_model.objects.create_superuser("alice"))
    yield client
    cache.clear()


def messages_of(response) -> list[str]:
    context = response.context
    review = context.get("review")
    found = list(context.get("form_errors") or [])
    if review is not None:
        found += [d.message for d in review.errors]
    return found


def writes(simulator) -> int:
    """The simulator's resourceVersion counter: any write to any object moves it."""
    return simulator.store.rv


def test_the_set_holds_at_least_100_distinct_cases():
    assert len(CASES) >= 100
    assert len({case_id for case_id, _, _ in CASES}) == len(CASES)


@pytest.mark.parametrize(("text", "fragment"), [(t, f) for _, t, f in CASES],
                         ids=[case_id for case_id, _, _ in CASES])
def test_hostile_drafts_are_refused_clearly_and_change_nothing(alice, shared_demo, text, fragment):
    before = writes(shared_demo)
    response = alice.post(reverse("policy_create"), {
        "yaml": text, "action": "apply", "reviewed": digest_of(text, "")})
    assert response.status_code == 400
    messages = messages_of(response)
    assert any(fragment in m for m in messages), messages
    body = response.content.decode()
    assert html.escape(messages[0], quote=True)[:200] in body
    assert SCRIPT not in body and "<img src=x" not in body
    if response.context.get("review") and response.context["review"].errors:
        assert all(d.line >= 1 and d.column >= 1 for d in response.context["review"].errors)
    assert not Job.objects.exists()
    assert writes(shared_demo) == before


UPLOADS = [
    ("not-utf8", b"kind: \xff\xfe NetworkPolicy\n", "not valid UTF-8 at byte 6"),
    ("over-the-limit", b"#" * (MIB + 1), "a policy file may be at most"),
    ("two-mebibytes", b"a: 1\n" * (2 * MIB // 5), "a policy file may be at most"),
    ("binary", bytes(range(256)) * 10, "not valid UTF-8 at byte 0"),
    ("nul-bytes", b"kind: Network\x00Policy\n", "not valid UTF-8 at byte 13"),
    ("zip-header", b"PK\x03\x04" + b"\x00" * 100, "not valid UTF-8 at byte 4"),
]


@pytest.mark.parametrize(("data", "fragment"), [(d, f) for _, d, f in UPLOADS],
                         ids=[case_id for case_id, _, _ in UPLOADS])
def test_hostile_uploads_are_refused_clearly_and_change_nothing(alice, shared_demo, data, fragment):
    before = writes(shared_demo)
    upload = SimpleUploadedFile("policy.yaml", data, content_type="application/yaml")
    response = alice.post(reverse("policy_create"), {"yaml": "", "action": "apply",
                                                     "upload": upload})
    assert response.status_code == 400
    assert any(fragment in m for m in messages_of(response)), messages_of(response)
    assert not Job.objects.exists()
    assert writes(shared_demo) == before


def test_a_utf16_file_with_a_byte_order_mark_is_read_as_kubectl_reads_it(alice, shared_demo):
    upload = SimpleUploadedFile("policy.yaml", policy().encode("utf-16"),
                                content_type="application/yaml")
    response = alice.post(reverse("policy_create"), {"yaml": "", "action": "review",
                                                     "upload": upload})
    assert response.status_code == 200
    assert response.context["review"].errors == []
    assert not Job.objects.exists()


def test_a_nul_character_in_the_editor_is_refused_by_the_form(alice, shared_demo):
    response = alice.post(reverse("policy_create"), {"yaml": "kind: a\x00b\n", "action": "review"})
    assert response.status_code == 400
    assert any("Null characters are not allowed" in m for m in messages_of(response))


def test_a_draft_over_the_limit_is_refused_by_the_editor_and_kept(alice, shared_demo):
    text = "#" * (3 * MIB)
    response = alice.post(reverse("policy_create"), {"yaml": text, "action": "apply"})
    assert response.status_code == 400
    assert "a policy may be at most" in messages_of(response)[0]
    assert response.context["text"] == text
    assert not Job.objects.exists()


def test_with_csrf_checks_a_request_too_large_is_a_400_not_a_500(alice, shared_demo,
                                                                  django_user_model):
    browser = Client(enforce_csrf_checks=True)
    browser.force_login(django_user_model.objects.get(username="alice"))
    response = browser.post(reverse("policy_create"), {"yaml": "#" * (3 * MIB)})
    assert response.status_code in (400, 403)
    assert not Job.objects.exists()


@pytest.mark.parametrize("field_value", [SCRIPT, '"><svg onload=alert(1)>'])
def test_a_valid_policy_carrying_markup_is_shown_escaped(alice, shared_demo, field_value):
    text = policy(metadata__annotations={"kubesphere.io/description": field_value})
    response = alice.post(reverse("policy_create"), {"yaml": text, "action": "review"})
    assert response.status_code == 200
    body = response.content.decode()
    assert field_value not in body
    assert html.escape(field_value) in body


def test_the_editor_says_which_yaml_it_accepts(alice, shared_demo):
    page = alice.get(reverse("policy_create")).content.decode()
    assert 'id="yaml-rules"' in page
    assert "anchors, aliases and merge keys" in page and "alias bomb" in page

"""Form text that is not UTF-8 is refused, never stored as U+FFFD (issue 13, item 2)."""

import pytest
from django.urls import reverse

from console.core.models import Job

pytestmark = pytest.mark.django_db


def post_form(client, url: str, body: bytes, **headers):
    return client.generic("POST", url, body, content_type="application/x-www-form-urlencoded",
                          **headers)


def test_a_latin1_byte_in_a_form_field_is_refused_with_a_message(demo_cluster, personas, login_as):
    carol = login_as("carol")
    url = reverse("project_entry_new", args=["shop", "external"])
    response = post_form(carol, url, b"action=save&direction=ingress&cidr=10.0.0.0/8&owner=caf%E9")

    assert response.status_code == 400
    assert "not valid UTF-8" in response.content.decode()
    assert not Job.objects.exists()


def test_htmx_gets_the_refusal_as_a_fragment(demo_cluster, personas, login_as):
    carol = login_as("carol")
    url = reverse("project_entry_new", args=["shop", "external"])
    response = post_form(carol, url, b"action=save&x=%FF", HTTP_HX_REQUEST="true")

    assert response.status_code == 200
    assert 'id="request-not-utf8"' in response.content.decode()


def test_a_replacement_character_in_a_multipart_field_is_refused(demo_cluster, personas, login_as):
    alice = login_as("alice")
    response = alice.post(reverse("policy_create"), {"yaml": "kind: caf\ufffd\n",
                                                     "action": "review"})
    assert response.status_code == 400
    assert "U+FFFD" in response.content.decode()


def test_utf8_text_passes(demo_cluster, personas, login_as):
    alice = login_as("alice")
    body = b"action=review&yaml=" + "kind: café".encode().replace(b" ", b"+")
    response = post_form(alice, reverse("policy_create"), body.replace("é".encode(), b"%C3%A9"))
    assert response.context is not None, "the editor answered, not the encoding refusal"
    assert response.context["text"] == "kind: café"
    assert 'id="request-not-utf8"' not in response.content.decode()

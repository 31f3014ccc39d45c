"""The shared test support (tests/support) reads what it must from real pages, whatever the markup order."""
import socket

import pytest
from support import csrf_from, free_port


@pytest.mark.parametrize("markup", [
    '<input id="csrf_token" name="csrf_token" type="hidden" value="tok-1">',
    '<input name="csrf_token" type="hidden" value="tok-1">',  # a form's hidden fields rendered without ids
    '<input type="hidden" value="tok-1" name="csrf_token">',
])
def test_csrf_from_finds_the_token_whatever_the_attribute_order(markup):
    page = f'<form><input name="email" value="not-this"> {markup}<input name="other" value="nor-this"></form>'
    assert csrf_from(page) == "tok-1"


def test_csrf_from_says_so_when_a_page_has_no_token():
    with pytest.raises(AssertionError, match="no CSRF token"):
        csrf_from('<form><input name="email" value="x"></form>')


def test_csrf_from_reads_the_sign_in_page(client):
    assert len(csrf_from(client.get("/auth/sign-in").get_data(as_text=True))) > 20


def test_free_port_can_be_listened_on():
    port = free_port()
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", port))
        sock.listen()

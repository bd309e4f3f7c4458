from __future__ import annotations

import pytest

from service.webhooks.exceptions import UnsafeURLError
from service.webhooks.urls import check_url, pinned_request, resolve
from tests.service.conftest import fake_dns


@pytest.mark.parametrize(
    ("url", "reason"),
    [
        ("http://127.0.0.1/", "private_address"),
        ("http://localhost:8080/", "private_address"),
        ("http://169.254.169.254/latest/meta-data/", "private_address"),
        ("http://10.1.2.3/", "private_address"),
        ("http://192.168.1.1/", "private_address"),
        ("http://100.64.0.1/", "private_address"),
        ("http://[::1]/", "private_address"),
        ("http://[fe80::1]/", "private_address"),
        ("http://[::ffff:127.0.0.1]/", "private_address"),
        ("http://0.0.0.0/", "private_address"),
        ("http://224.0.0.1/", "private_address"),
        ("gopher://a.example.com/", "unsupported_scheme"),
        ("a.example.com/hook", "unsupported_scheme"),
        ("http:///nohost", "no_host"),
        ("http://a.example.com:99999/", "no_host"),
        ("https://u:p@a.example.com/", "credentials_in_url"),
        ("https://nowhere.invalid/", "unresolvable"),
    ],
)
def test_refused_without_the_setting(url: str, reason: str) -> None:
    """Test names go to the fake resolver; literals and localhost need no network anyway."""
    fake = "example.com" in url or url.endswith(".invalid/")
    resolver = fake_dns if fake else resolve
    with pytest.raises(UnsafeURLError) as raised:
        check_url(url, allow_private=False, resolver=resolver)
    assert raised.value.reason == reason


def test_a_name_resolving_to_any_private_address_is_refused() -> None:
    def split_horizon(host: str, port: int) -> list[str]:
        return ["93.184.215.14", "10.0.0.5"]

    with pytest.raises(UnsafeURLError, match=r"resolves to 10\.0\.0\.5"):
        check_url("https://hooks.example.com/", allow_private=False, resolver=split_horizon)


def test_public_and_allowed_private_targets() -> None:
    target = check_url("https://hooks.example.com/x", allow_private=False, resolver=fake_dns)
    assert (target.host, target.port, target.address) == ("hooks.example.com", 443, "93.184.215.14")
    private = check_url("http://localhost:8080/x", allow_private=True)
    assert private.address in ("127.0.0.1", "::1")


def test_the_request_goes_to_the_checked_address() -> None:
    target = check_url(
        "http://hooks.example.com:8080/a/b?c=d", allow_private=False, resolver=fake_dns
    )
    url, headers, extensions = pinned_request(target)
    assert url == "http://93.184.215.14:8080/a/b?c=d"
    assert headers == {"Host": "hooks.example.com:8080"}
    assert extensions == {}
    v6 = check_url("https://[2606:4700::1111]/h", allow_private=False)
    url, headers, extensions = pinned_request(v6)
    assert url == "https://[2606:4700::1111]/h"
    assert headers == {"Host": "[2606:4700::1111]"}
    assert extensions == {"sni_hostname": "2606:4700::1111"}

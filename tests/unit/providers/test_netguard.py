from __future__ import annotations

import asyncio
import re

import httpx
import pytest

from flowless.netguard import BlockedAddressError, check_url, guarded_async_client
from tests.stubs.openai_stub import OpenAIStub, Reply

ALWAYS_BLOCKED = [
    "http://169.254.169.254/latest/meta-data/",  # EC2 metadata
    "http://169.254.170.2/v2/credentials",  # ECS task credentials
    "http://[fd00:ec2::254]/latest/meta-data/",  # EC2 metadata over IPv6
    "http://169.254.1.1/",  # link-local
    "http://[fe80::1]/",
    "http://[::ffff:169.254.169.254]/",  # IPv4-mapped IPv6
    "http://[64:ff9b::a9fe:a9fe]/",  # NAT64 of 169.254.169.254
    "http://2852039166/",  # 169.254.169.254 as one decimal number
    "http://0xa9fea9fe/",  # ... in hex
    "http://0251.0376.0251.0376/",  # ... in octal
    "http://224.0.0.1/",  # multicast
    "http://[ff02::1]/",
    "http://240.0.0.1/",  # reserved
    "http://255.255.255.255/",
    "http://0.0.0.0/",  # unspecified
    "http://0/",
    "http://[::]/",
]

PRIVATE = [
    "http://127.0.0.1:8080/",
    "http://localhost/",
    "http://[::1]/",
    "http://[::ffff:127.0.0.1]/",
    "http://10.1.2.3/",
    "http://172.16.0.1/",
    "http://172.31.255.255/",
    "http://192.168.1.1/",
    "http://100.64.0.1/",  # carrier-grade NAT
    "http://[fd12:3456::1]/",  # unique local
    "https://[::ffff:10.0.0.1]:8443/",
]

PUBLIC = [
    "http://8.8.8.8/",
    "https://1.1.1.1:8443/x?y=1",
    "http://[2001:4860:4860::8888]/",
    "http://172.32.0.1/",  # just past 172.16.0.0/12
]


@pytest.mark.parametrize("url", ALWAYS_BLOCKED)
@pytest.mark.parametrize("allow_private", [False, True])
def test_always_blocked(url: str, allow_private: bool) -> None:
    with pytest.raises(BlockedAddressError):
        check_url(url, allow_private=allow_private)


@pytest.mark.parametrize("url", PRIVATE)
def test_private_blocked_unless_allowed(url: str) -> None:
    with pytest.raises(BlockedAddressError):
        check_url(url, allow_private=False)
    check_url(url, allow_private=True)


@pytest.mark.parametrize("url", PUBLIC)
def test_public_addresses_pass(url: str) -> None:
    check_url(url, allow_private=False)


def test_message_names_host_and_reason() -> None:
    metadata = r"'2852039166' resolves to 169\.254\.169\.254, which is a cloud metadata address"
    with pytest.raises(BlockedAddressError, match=metadata):
        check_url("http://2852039166/", allow_private=True)
    with pytest.raises(BlockedAddressError, match=r"'localhost' resolves to .*loopback"):
        check_url("http://localhost/", allow_private=False)


@pytest.mark.parametrize(
    "url",
    ["file:///etc/passwd", "ftp://8.8.8.8/", "gopher://8.8.8.8/", "8.8.8.8/path", "javascript:alert(1)"],
)
def test_other_schemes_are_refused(url: str) -> None:
    with pytest.raises(BlockedAddressError, match="scheme"):
        check_url(url, allow_private=True)


@pytest.mark.parametrize("url", ["http:///path", "http://8.8.8.8:99999/", "http://" + "a" * 64 + ".example/"])
def test_unusable_urls_are_refused(url: str) -> None:
    with pytest.raises(BlockedAddressError):
        check_url(url, allow_private=True)


def test_error_is_a_value_error() -> None:
    assert issubclass(BlockedAddressError, ValueError)


# -- the guarded httpx client -----------------------------------------------------------------


def fetch(url: str, *, allow_private: bool) -> httpx.Response:
    async def run() -> httpx.Response:
        async with guarded_async_client(allow_private, follow_redirects=True, timeout=2) as client:
            return await client.get(url)

    return asyncio.run(run())


def test_guarded_client_sends_allowed_requests(openai_stub: OpenAIStub) -> None:
    assert fetch(f"{openai_stub.url}/anything", allow_private=True).status_code == 404
    assert len(openai_stub.requests) == 1


def test_guarded_client_refuses_before_connecting(openai_stub: OpenAIStub) -> None:
    with pytest.raises(BlockedAddressError, match="loopback"):
        fetch(f"{openai_stub.url}/anything", allow_private=False)
    assert openai_stub.requests == []


def test_redirect_to_metadata_is_refused(openai_stub: OpenAIStub) -> None:
    openai_stub.enqueue(Reply.redirect("http://169.254.169.254/latest/meta-data/iam/security-credentials/"))
    with pytest.raises(BlockedAddressError, match=re.escape("169.254.169.254")):
        fetch(f"{openai_stub.url}/innocent", allow_private=True)
    assert [r.path for r in openai_stub.requests] == ["/innocent"]


def test_redirects_that_stay_allowed_are_followed(openai_stub: OpenAIStub) -> None:
    openai_stub.enqueue(Reply.redirect("/elsewhere"), Reply.redirect(f"{openai_stub.url}/final"))
    response = fetch(f"{openai_stub.url}/start", allow_private=True)
    assert response.status_code == 404  # the stub's answer to an unknown path
    assert [r.path for r in openai_stub.requests] == ["/start", "/elsewhere", "/final"]


def test_callers_request_hooks_still_run(openai_stub: OpenAIStub) -> None:
    seen: list[str] = []

    async def hook(request: httpx.Request) -> None:
        seen.append(request.url.path)

    async def run() -> None:
        async with guarded_async_client(True, event_hooks={"request": [hook]}) as client:
            await client.get(f"{openai_stub.url}/a")

    asyncio.run(run())
    assert seen == ["/a"]

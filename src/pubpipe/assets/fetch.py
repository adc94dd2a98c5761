"""The fetcher: the only code in pubpipe that touches the network.

Remote images are fetched concurrently (a bounded pool) with httpx. Every URL gets a wall-clock
budget (``total-timeout``) that covers connecting, redirects, retries and reading the body: httpx's
own timeouts bound each socket operation, but a server that trickles one byte a second never trips
a read timeout, so each attempt is also cancelled by ``asyncio.wait_for`` when the budget runs out.

Redirects are followed by hand (so a loop or a hop to another scheme is reported by name), bodies
are streamed and cut off at ``max-bytes``, and only transient failures (connection errors, 429,
502, 503, 504) are retried, with exponential backoff that never outlives the budget. A cached copy
is revalidated with ``If-None-Match`` / ``If-Modified-Since``. When a host times out or cannot be
reached, the requests still queued for it fail at once, so one slow server costs one budget.
That state is kept per host and port (``u1@host`` and ``u2@host`` are one host), and a failure after
a redirect is charged to the host that failed, not to the one that redirected. All fetching of one
call shares a total budget (``fetch-budget``); what has not started when it runs out is not tried.

Only public addresses are fetched: every host, on the first request and on every redirect, is
resolved here and refused if any of its addresses is loopback, private, link-local, multicast,
reserved or unspecified (cloud metadata services live there). The request then goes to the
address that was checked (the URL's host stays in ``Host`` and in TLS's SNI and certificate
check), so a second DNS answer cannot point it elsewhere. ``allow_private_hosts`` lifts the rule
(tests with loopback servers, intranet blogs).
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import ipaddress
import socket
import time
import urllib.parse
from collections.abc import Callable
from dataclasses import dataclass, field

import httpx

from .. import __version__ as _version

USER_AGENT = f"pubpipe/{_version} (+offline book builder)"
TRANSIENT_STATUS = {429, 502, 503, 504}
REDIRECT_STATUS = {301, 302, 303, 307, 308}
# Headers worth keeping in the cache record: validators and what the server claimed.
KEPT_HEADERS = ("etag", "last-modified", "content-type", "content-length", "cache-control",
                "expires", "date")


@dataclass
class FetchRequest:
    url: str
    etag: str = ""  # validators of the cached copy, if any
    last_modified: str = ""


@dataclass
class FetchResult:
    url: str
    ok: bool = False
    not_modified: bool = False  # 304: the cached copy is still good
    data: bytes = b""
    final_url: str = ""
    status_code: int = 0
    headers: dict[str, str] = field(default_factory=dict)
    reason: str = ""  # why it failed, for the author
    transient: bool = False  # failed in a way that might work next time (used for cache fallback)
    host_down: bool = False  # the host timed out or could not be reached at all
    attempts: int = 0
    elapsed: float = 0.0
    failed_host: str = ""  # the host that failed (after a redirect, not the one asked)


@dataclass
class _State:
    """What the requests of one call share: hosts found down, and the total deadline."""

    down: dict[str, str]
    deadline: float


def _host(url: str) -> str:
    """'host:port' of url, without user name or password: the key of per-host state (so
    ``u1@host`` and ``u2@host`` are one server, and a dead port is not the whole machine)."""
    try:
        parts = urllib.parse.urlsplit(url)
        port = parts.port or (443 if parts.scheme == "https" else 80)
        return f"{(parts.hostname or '').rstrip('.').lower()}:{port}"
    except ValueError:
        return ""


def _refused_address(ip: ipaddress.IPv4Address | ipaddress.IPv6Address) -> str:
    """Why an address may not be fetched from ("" if it may)."""
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped:
        ip = ip.ipv4_mapped
    for what, flag in (("loopback", ip.is_loopback), ("link-local", ip.is_link_local),
                       ("multicast", ip.is_multicast), ("unspecified", ip.is_unspecified),
                       ("private", ip.is_private), ("reserved", ip.is_reserved)):
        if flag:
            return what
    return "" if ip.is_global else "not public"


async def _checked_address(url: httpx.URL, settings: FetchSettings) -> str:
    """The address to connect to for url, after checking every address its host resolves to."""
    host = url.raw_host.decode("ascii")
    port = url.port or (443 if url.scheme == "https" else 80)
    try:
        ip = ipaddress.ip_address(host)
        addresses = [ip]
    except ValueError:
        try:
            infos = await asyncio.get_running_loop().getaddrinfo(host, port,
                                                                type=socket.SOCK_STREAM)
        except (socket.gaierror, UnicodeError, OSError) as e:
            raise _Failure(f"cannot connect: cannot resolve {host} ({e})",
                           host_down=True) from None
        addresses = [ipaddress.ip_address(info[4][0].split("%", 1)[0]) for info in infos]
    if not addresses:
        raise _Failure(f"cannot connect: {host} has no address", host_down=True)
    for ip in addresses:
        why = _refused_address(ip)
        if why:
            raise _Failure(f"refused: {host} is a {why} address ({ip}); pass"
                           " --allow-private-hosts or set [assets] allow-private-hosts = true"
                           " to fetch from it")
    return str(addresses[0])


async def _pinned(url: str, headers: dict, settings: FetchSettings) -> tuple[str, dict, dict]:
    """url rewritten to the checked address, with Host and SNI naming the original host."""
    u = httpx.URL(url)
    ip = await _checked_address(u, settings)
    host = u.raw_host.decode("ascii")
    shown = f"[{host}]" if ":" in host else host
    host_header = shown if u.port is None else f"{shown}:{u.port}"
    pinned = {**headers, "Host": host_header}
    if u.scheme == "https":  # a pooled TLS connection is for one name: never lend it to another
        pinned["Connection"] = "close"
    return str(u.copy_with(host=ip)), pinned, {"sni_hostname": host}


@dataclass
class FetchSettings:
    connect_timeout: float = 5.0
    read_timeout: float = 10.0
    total_timeout: float = 20.0
    max_bytes: int = 50 * 1024 * 1024
    max_redirects: int = 5
    retries: int = 2
    concurrency: int = 8
    backoff: float = 0.5  # first retry waits this long, then doubles
    allow_private_hosts: bool = False  # fetch from loopback/private/link-local addresses too
    budget: float = 300.0  # wall-clock seconds for the whole call (every request)


class _Failure(Exception):
    def __init__(self, reason: str, transient: bool = False, status: int = 0,
                 host_down: bool = False, retry_after: float = 0.0):
        super().__init__(reason)
        self.retry_after = retry_after
        self.reason = reason
        self.transient = transient
        self.status = status
        self.host_down = host_down


def fetch_many(requests: list[FetchRequest], settings: FetchSettings,
               on_done: Callable[[FetchResult], None] | None = None) -> dict[str, FetchResult]:
    """Fetch every request concurrently; returns url -> result. Never raises for a bad URL.

    on_done is called (on this thread) as each result arrives; it may take ``result.data`` and
    set it to ``b""`` so that a large batch is not held in memory all at once."""
    if not requests:
        return {}
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return _run_loop(requests, settings, on_done)
    # Called from code that already runs an event loop (a notebook, an async caller): use a
    # thread of our own rather than nesting loops.
    with concurrent.futures.ThreadPoolExecutor(max_workers=1) as pool:
        return pool.submit(_run_loop, requests, settings, on_done).result()


def _run_loop(requests, settings, on_done) -> dict[str, FetchResult]:
    loop = asyncio.new_event_loop()
    # Name resolution runs in the loop's executor; don't let a hung resolver thread hold the
    # build at shutdown (asyncio.run would wait for it), so shut that executor down unwaited.
    executor = concurrent.futures.ThreadPoolExecutor(max_workers=max(4, settings.concurrency))
    loop.set_default_executor(executor)
    try:
        return loop.run_until_complete(_fetch_all(requests, settings, on_done))
    finally:
        try:
            loop.run_until_complete(loop.shutdown_asyncgens())
        finally:
            loop.close()
            executor.shutdown(wait=False, cancel_futures=True)


async def _fetch_all(requests, settings, on_done):
    timeout = httpx.Timeout(connect=settings.connect_timeout, read=settings.read_timeout,
                            write=settings.read_timeout, pool=settings.total_timeout)
    limits = httpx.Limits(max_connections=settings.concurrency,
                          max_keepalive_connections=settings.concurrency)
    sem = asyncio.Semaphore(settings.concurrency)
    results: dict[str, FetchResult] = {}
    # trust_env=False: no HTTP(S)_PROXY/ALL_PROXY. Each request goes to the address checked for
    # its host (_pinned); through a proxy the proxy would resolve and connect on its own, and a
    # refused internal address would be reached all the same.
    async with httpx.AsyncClient(timeout=timeout, limits=limits, follow_redirects=False,
                                 trust_env=False, headers={"User-Agent": USER_AGENT,
                                          "Accept": "image/*,*/*;q=0.5"}) as client:
        # A host that timed out or could not be reached fails the images still queued for it at
        # once: one slow server costs one budget, not one per image it serves.
        state = _State(down={}, deadline=time.monotonic() + settings.budget)

        async def one(req: FetchRequest):
            host = _host(req.url)
            async with sem:
                if host in state.down:
                    res = FetchResult(url=req.url, reason=f"not tried: {host}"
                                      f" {state.down[host]} for another image", transient=True)
                elif time.monotonic() >= state.deadline:
                    res = FetchResult(url=req.url, reason=f"not tried: the build's fetch budget"
                                      f" ({settings.budget:g} s, [assets] fetch-budget) ran out",
                                      transient=True)
                else:
                    res = await _fetch_one(client, req, settings, state)
                    failed = res.failed_host or host
                    if res.host_down and failed not in state.down:
                        state.down[failed] = f"failed ({res.reason})"
            results[req.url] = res
            if on_done:
                on_done(res)

        await asyncio.gather(*(one(r) for r in requests))
    return results


async def _fetch_one(client: httpx.AsyncClient, req: FetchRequest,
                     settings: FetchSettings, state: _State | None = None) -> FetchResult:
    start = time.monotonic()
    deadline = start + settings.total_timeout
    if state is not None:
        deadline = min(deadline, state.deadline)
    res = FetchResult(url=req.url)
    delay = settings.backoff
    while True:
        res.attempts += 1
        res.reason, res.transient, res.host_down = "", False, False  # a retry starts afresh
        remaining = deadline - time.monotonic()
        try:
            if remaining <= 0:
                raise asyncio.TimeoutError
            await asyncio.wait_for(_attempt(client, req, settings, res, state),
                                   timeout=remaining)
            res.ok = not res.reason
            break
        except asyncio.TimeoutError:
            if state is not None and time.monotonic() >= state.deadline - 0.05 \
                    and state.deadline < start + settings.total_timeout:
                res.reason = (f"gave up: the build's fetch budget ({settings.budget:g} s,"
                              " [assets] fetch-budget) ran out")
                res.transient = True
            else:
                res.reason = (f"gave up after {settings.total_timeout:g} s"
                              f" (server too slow or not answering)")
                res.transient = res.host_down = True
            break
        except _Failure as f:
            res.reason, res.transient, res.status_code = f.reason, f.transient, f.status
            res.host_down = f.host_down
            retry_left = res.attempts <= settings.retries
            # Retry only what may work next time, and only if the wait fits in the budget.
            wait = max(delay, f.retry_after)  # a server's Retry-After, if it fits the budget
            if not (f.transient and retry_left and time.monotonic() + wait < deadline - 0.5):
                break
            await asyncio.sleep(wait)
            delay *= 2
    res.elapsed = time.monotonic() - start
    if res.ok:
        res.reason = ""
    return res


async def _attempt(client: httpx.AsyncClient, req: FetchRequest, settings: FetchSettings,
                   res: FetchResult, state: _State | None = None) -> None:
    url = req.url
    seen: list[str] = []
    headers = {}
    if req.etag:
        headers["If-None-Match"] = req.etag
    if req.last_modified:
        headers["If-Modified-Since"] = req.last_modified
    while True:
        if url in seen:
            raise _Failure(f"redirect loop ({' -> '.join(seen + [url])})")
        seen.append(url)
        host = _host(url)
        res.failed_host = host  # a failure from here on is this host's
        if state is not None and host in state.down and len(seen) > 1:
            raise _Failure(f"redirected to {host}, which {state.down[host]} for another image")
        try:
            target, hop_headers, extensions = url, dict(headers), {}
            if not settings.allow_private_hosts:
                target, hop_headers, extensions = await _pinned(url, headers, settings)
            async with client.stream("GET", target, headers=hop_headers,
                                     extensions=extensions) as resp:
                location = resp.headers.get("location", "")
                # Not resp.is_redirect: httpx counts 304 Not Modified as a redirect.
                if resp.status_code in REDIRECT_STATUS and location:
                    if len(seen) > settings.max_redirects:
                        raise _Failure(f"more than {settings.max_redirects} redirects")
                    try:
                        nxt = httpx.URL(url).join(location)
                    except Exception:
                        raise _Failure(f"bad redirect to {location!r}") from None
                    if nxt.scheme not in ("http", "https"):
                        raise _Failure(f"redirect to a refused scheme: {location}")
                    url = str(nxt)
                    continue
                res.final_url = url
                res.status_code = resp.status_code
                res.headers = {k: resp.headers[k] for k in KEPT_HEADERS if k in resp.headers}
                if resp.status_code == 304 and (req.etag or req.last_modified):
                    res.not_modified = True
                    return
                if resp.status_code != 200:
                    phrase = resp.reason_phrase or ""
                    retry_after = resp.headers.get("retry-after", "").strip()
                    raise _Failure(f"HTTP {resp.status_code} {phrase}".strip(),
                                   transient=resp.status_code in TRANSIENT_STATUS,
                                   status=resp.status_code,
                                   retry_after=float(retry_after) if retry_after.isdigit() else 0)
                declared = resp.headers.get("content-length", "")
                if declared.isdigit() and int(declared) > settings.max_bytes:
                    raise _Failure(f"too large ({int(declared)} bytes; the limit is"
                                   f" {settings.max_bytes}, [assets] max-bytes)")
                chunks, size = [], 0
                async for chunk in resp.aiter_bytes():  # decoded: the cap holds for gzip too
                    size += len(chunk)
                    if size > settings.max_bytes:
                        raise _Failure(f"too large (more than {settings.max_bytes} bytes;"
                                       f" [assets] max-bytes)")
                    chunks.append(chunk)
                res.data = b"".join(chunks)
                return
        except _Failure:
            raise
        except httpx.ConnectError as e:
            msg = str(e) or type(e).__name__
            # Name-resolution failures are not transient in practice: don't hammer the resolver.
            dns = any(s in msg for s in ("Name or service not known", "nodename nor servname",
                                          "getaddrinfo", "No address associated"))
            raise _Failure(f"cannot connect: {msg}", transient=not dns, host_down=True) from None
        except httpx.TimeoutException as e:
            raise _Failure(f"timed out ({type(e).__name__})", transient=False,
                           host_down=True) from None
        except httpx.RemoteProtocolError as e:
            raise _Failure(f"broken response: {e}", transient=True) from None
        except (httpx.ReadError, httpx.WriteError) as e:
            raise _Failure(f"connection failed while reading: {e or type(e).__name__}",
                           transient=True) from None
        except httpx.InvalidURL as e:
            raise _Failure(f"invalid URL: {e}") from None
        except httpx.HTTPError as e:
            raise _Failure(f"{type(e).__name__}: {e}") from None


"""The documentation site, built and opened in headless Chromium (issue #14).

The site is built with ``mkdocs build --strict`` and served from 127.0.0.1 by
``http.server``; Chromium (Debian's ``chromium`` package, which ``.ci/run``
installs) loads every page of the nav and prints the DOM after its scripts
ran.  For each page: its ``<h1>`` is the page's Markdown title, every link
to another page of the site is served (HTTP 200), and nothing is loaded from
another host.  Code blocks are highlighted by Pygments at build time (token
spans in the HTML, no highlighting script), and the sign-in flow is an inline
SVG diagram.

Without Chromium the test is skipped with the reason, except in CI
(``CI=true``), where a missing browser is a failure.
"""

from __future__ import annotations

import html
import http.server
import os
import re
import shutil
import subprocess
import sys
import tempfile
import threading
import urllib.error
import urllib.request
from collections.abc import Iterator
from functools import partial
from pathlib import Path
from urllib.parse import urljoin, urlsplit

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[2]


def _chromium() -> str:
    for name in ("chromium", "chromium-browser"):
        path = shutil.which(name)
        if path:
            return path
    reason = "chromium is not installed (apt-get install chromium); .ci/run installs it"
    if os.environ.get("CI", "").lower() == "true":
        pytest.fail(f"CI=true but {reason}")
    print(f"SKIP: {reason}", file=sys.stderr)
    pytest.skip(reason)


def _nav_pages() -> list[str]:
    """The Markdown files of mkdocs.yml's nav, in order."""
    config = yaml.load((ROOT / "mkdocs.yml").read_text(encoding="utf-8"), Loader=_Loader)
    pages: list[str] = []

    def walk(entries: object) -> None:
        if isinstance(entries, list):
            for entry in entries:
                walk(entry)
        elif isinstance(entries, dict):
            for value in entries.values():
                walk(value)
        elif isinstance(entries, str) and entries.endswith(".md"):
            pages.append(entries)

    walk(config["nav"])
    return pages


class _Loader(yaml.SafeLoader):
    """SafeLoader that leaves mkdocs' ``!!python/name:`` tags alone (none used today)."""


_Loader.add_multi_constructor("tag:yaml.org,2002:python/", lambda loader, suffix, node: None)


@pytest.fixture(scope="module")
def site() -> Iterator[str]:
    """The built site, served on 127.0.0.1; yields its base URL."""
    chromium_ok = _chromium()  # skip (or fail in CI) before the build
    assert chromium_ok
    with tempfile.TemporaryDirectory() as out:
        build = subprocess.run(
            [sys.executable, "-m", "mkdocs", "build", "--strict", "-q", "-d", out],
            cwd=ROOT,
            capture_output=True,
            text=True,
            timeout=300,
        )
        assert build.returncode == 0, build.stderr
        handler = partial(_QuietHandler, directory=out)
        server = _Server(("127.0.0.1", 0), handler)
        thread = threading.Thread(target=server.serve_forever, daemon=True)
        thread.start()
        try:
            yield f"http://127.0.0.1:{server.server_address[1]}/"
        finally:
            server.shutdown()
            server.server_close()
            thread.join(timeout=10)


class _Server(http.server.ThreadingHTTPServer):
    def handle_error(self, request: object, client_address: object) -> None:
        if not isinstance(sys.exc_info()[1], ConnectionError):  # the browser hung up
            super().handle_error(request, client_address)  # type: ignore[arg-type]


class _QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, format: str, *args: object) -> None:
        pass


def _dump_dom(url: str) -> str:
    with tempfile.TemporaryDirectory() as profile:
        proc = subprocess.run(
            [
                _chromium(),
                "--headless",
                "--no-sandbox",
                "--disable-gpu",
                "--disable-background-networking",
                "--disable-component-update",
                "--disable-sync",
                "--no-first-run",
                f"--user-data-dir={profile}",
                "--dump-dom",
                url,
            ],
            capture_output=True,
            text=True,
            timeout=120,
        )
    assert proc.returncode == 0, proc.stderr[-2000:]
    return proc.stdout


def _url_of(base: str, page: str) -> str:
    name = page.removesuffix(".md")
    return base if name == "index" else f"{base}{name}/"


def _title_of(page: str) -> str:
    text = (ROOT / "docs" / page).read_text(encoding="utf-8")
    match = re.search(r"^# (.+)$", text, re.M)
    assert match, f"docs/{page} has no # title"
    return re.sub(r"`([^`]*)`", r"\1", match.group(1)).strip()


def _text(fragment: str) -> str:
    return " ".join(html.unescape(re.sub(r"<[^>]+>", "", fragment)).split())


PAGES = _nav_pages()


def test_nav_lists_pages() -> None:
    assert "index.md" in PAGES and "cli.md" in PAGES and "api.md" in PAGES


@pytest.mark.parametrize("page", PAGES)
def test_page_renders_and_links_resolve(site: str, page: str) -> None:
    url = _url_of(site, page)
    dom = _dump_dom(url)
    h1 = re.search(r"<h1[^>]*>(.*?)</h1>", dom, re.S)
    assert h1, f"{url}: no <h1> in the rendered page"
    assert _text(h1.group(1)).removesuffix("¶").strip() == _title_of(page)
    assert re.search(r"<title>[^<]*secitem[^<]*</title>", dom)
    # the Material layout ran: the navigation is there
    assert 'class="md-nav' in dom

    # nothing from another host: no CDN script, style or font
    for attr, ref in re.findall(r'<(?:script|link|img)[^>]*\s(src|href)="([^"]+)"', dom):
        assert not urlsplit(ref).netloc or urlsplit(ref).hostname == "127.0.0.1", (attr, ref)

    # every link into the site is served
    targets = set()
    for href in re.findall(r'<a [^>]*href="([^"#][^"]*)"', dom):
        absolute = urljoin(url, html.unescape(href))
        if urlsplit(absolute).hostname == "127.0.0.1":
            targets.add(absolute.partition("#")[0])
    assert targets, f"{url}: no navigation links"
    for target in sorted(targets):
        try:
            with urllib.request.urlopen(target, timeout=30) as response:
                assert response.status == 200, target
        except urllib.error.HTTPError as exc:  # pragma: no cover - the failure message
            pytest.fail(f"{url} links to {target}: HTTP {exc.code}")


def test_code_is_highlighted_at_build_time(site: str) -> None:
    dom = _dump_dom(_url_of(site, "credential-store.md"))
    blocks = re.findall(r'<div class="[^"]*highlight[^"]*">(.*?)</div>', dom, re.S)
    assert blocks, "no highlighted python block"
    # Pygments token classes: keyword-namespace (from/import), name, string
    assert '<span class="kn">from</span>' in blocks[0]
    assert '<span class="kn">import</span>' in blocks[0]
    assert "hljs" not in dom  # no client-side highlighter


def test_sign_in_flow_is_a_diagram(site: str) -> None:
    dom = _dump_dom(_url_of(site, "credential-store.md"))
    svg = re.search(r'<svg[^>]*class="login-flow"[^>]*>(.*?)</svg>', dom, re.S)
    assert svg, "the sign-in flow diagram is missing"
    labels = _text(" ".join(re.findall(r"<text[^>]*>(.*?)</text>", svg.group(1), re.S)))
    for label in ("prompt(MISSING)", "prompt(REJECTED)", "prompt(RETRY)", "LoginCancelled"):
        assert label in labels


def test_api_reference_is_generated(site: str) -> None:
    dom = _dump_dom(_url_of(site, "api.md"))
    for name in ("CredentialStore", "Keychain", "GenericPassword", "KeychainError", "SecItemAdd"):
        assert re.search(rf'id="secitem\.[a-z_.]*{name}"', dom), name

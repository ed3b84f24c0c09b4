"""Every page of the extension in a real Chromium at 375, 768 and 1280 px: no sideways scrolling of the page,
0 axe-core violations, no console error or failed request (a favicon included), no duplicate id, and every
button with one accessible name of its own.

Each page is loaded once and checked at each width in turn (the viewport resized, the layout recomputed by
the browser as for a turned tablet); loading it three times would only parse axe-core three times.
"""

from __future__ import annotations

import json
import re

import pytest

from .conftest import WIDTHS, World

# The page has loaded and htmx has nothing in flight, swapping or settling (a card loaded after the page
# included). Waiting for the network to be idle instead costs half a second per page.
SETTLED = """() => document.readyState === 'complete' && (!window.htmx ||
  !document.querySelector('.htmx-request, .htmx-swapping, .htmx-settling, .htmx-added'))"""

# The page's own width against the viewport: a table wider than the screen must reflow or scroll in its box.
OVERFLOW = "() => document.documentElement.scrollWidth - document.documentElement.clientWidth"

DUPLICATE_IDS = """() => {
  const seen = {};
  for (const el of document.querySelectorAll('[id]')) seen[el.id] = (seen[el.id] || 0) + 1;
  return Object.entries(seen).filter(([, n]) => n > 1);
}"""

# Every axe rule that runs by default, and label-in-name (WCAG 2.5.3: the visible text is part of the name).
AXE_RUN = """async () => {
  const result = await axe.run(document, {rules: {'label-content-name-mismatch': {enabled: true}}});
  return result.violations.map(v => ({id: v.id, help: v.help,
                                      nodes: v.nodes.map(n => n.target.join(' ') + ' :: ' + n.failureSummary)}));
}"""


BUTTON = re.compile(r'^\s*- (?:button|switch)(?: "((?:[^"\\]|\\.)*)")?', re.M)


def button_names(page) -> list[str]:
    """The accessible name of every button and switch, as Playwright's accessibility snapshot computes it."""
    return [m.group(1) or "" for m in BUTTON.finditer(page.locator("body").aria_snapshot())]


class Watcher:
    """Console errors and failed requests of one page, collected while it loads and is used."""

    def __init__(self, page):
        self.problems: list[str] = []
        page.on("console", self._console)
        page.on("pageerror", lambda e: self.problems.append(f"page error: {e}"))
        # ERR_ABORTED: a poll cut short by the test's next navigation (an htmx abort shows as a console error).
        page.on("requestfailed", lambda r: "ERR_ABORTED" not in (r.failure or "")
                and self.problems.append(f"request failed: {r.url} {r.failure}"))
        page.on("response", lambda r: r.status >= 400 and r.request.resource_type != "document"
                and self.problems.append(f"HTTP {r.status}: {r.url}"))

    def _console(self, message) -> None:
        # An error page's own status is logged as "Failed to load resource" for the document itself: expected.
        if message.type in ("error", "warning") and message.location.get("url") != message.page.url:
            self.problems.append(f"console {message.type}: {message.text} ({message.location.get('url')})")

    def take(self) -> list[str]:
        problems, self.problems = self.problems, []
        return problems


def check_page(page, where: str) -> list[str]:
    """Everything wrong with the page now loaded, at the viewport's width, as readable lines."""
    found = []
    overflow = page.evaluate(OVERFLOW)
    if overflow > 0:
        found.append(f"{where}: the page scrolls sideways by {overflow} px")
    for ident, count in page.evaluate(DUPLICATE_IDS):
        found.append(f"{where}: id={ident!r} appears {count} times")
    names = button_names(page)
    for name in names:
        if not name.strip():
            found.append(f"{where}: a button without an accessible name")
    for name in {n for n in names if names.count(n) > 1}:
        found.append(f"{where}: {names.count(name)} buttons are all called {name!r}")
    for violation in page.evaluate(AXE_RUN):
        found.append(f"{where}: axe {violation['id']} ({violation['help']}): {json.dumps(violation['nodes'])[:600]}")
    return found


@pytest.mark.browser
def test_every_page_fits_is_accessible_and_quiet(world: World, page, axe_source):
    watcher = Watcher(page)
    found = []
    for name, path in world.pages().items():
        page.set_viewport_size({"width": WIDTHS[0], "height": 900})
        response = page.goto(world.url + path)
        page.wait_for_function(SETTLED)
        expected = 404 if name == "error-404" else 400 if name == "error-400" else 200
        assert response.status == expected, (name, response.status)
        page.add_script_tag(content=axe_source)
        for width in WIDTHS:
            page.set_viewport_size({"width": width, "height": 900})
            found += check_page(page, f"{name} at {width} px")
        page.wait_for_timeout(100)  # let a request the page started on load finish or fail
        found += [f"{name}: {p}" for p in watcher.take()]
    assert not found, "\n".join(found)

"""The tests' shared URL builders (tests/fixtures/url_rules.py) build exactly the URLs Werkzeug's own would."""

from __future__ import annotations

from werkzeug.routing import Map, Rule
from werkzeug.routing.rules import Rule as RuleClass

from tests.fixtures import url_rules


def _rules() -> list[Rule]:
    return [
        Rule("/", endpoint="index"),
        Rule("/companies/<company_id>/maventa", endpoint="company"),
        Rule("/files/<path:name>", endpoint="file"),
        Rule("/page/<int:number>", endpoint="page", defaults={"lang": "en"}),
        Rule("/list/", endpoint="first", defaults={"number": 1}),
        Rule("/list/<int:number>", endpoint="first"),
        # A default filling the rule's own variable: Werkzeug makes it a constant, so compiled every time.
        Rule("/v<int:version>", endpoint="version", defaults={"version": 2}),
        Rule("/", endpoint="shop", subdomain="<shop>"),
    ]


def _urls(adapter) -> list[str]:
    return [
        adapter.build("index"), adapter.build("index", {"q": "ä b", "n": [1, 2]}),
        adapter.build("company", {"company_id": "c 1/ø"}), adapter.build("file", {"name": "a b/c.pdf"}),
        adapter.build("page", {"number": 7}), adapter.build("page", {"number": 7, "extra": "x"}),
        adapter.build("first", {"number": 1}), adapter.build("first", {"number": 3}),
        adapter.build("shop", {"shop": "nord"}, force_external=True), adapter.build("version", {"version": 2}),
    ]


def test_a_second_map_reuses_the_builders_and_builds_the_same_urls(monkeypatch):
    assert RuleClass._compile_builder is url_rules._shared_builder
    monkeypatch.setattr(url_rules, "_builders", {})
    compiled: list[str] = []
    werkzeugs = url_rules._compile_builder

    def counting(rule, append_unknown=True):
        compiled.append(rule.rule)
        return werkzeugs(rule, append_unknown)

    monkeypatch.setattr(url_rules, "_compile_builder", counting)
    shared = [_urls(Map(_rules()).bind("example.test")) for _ in range(2)]

    monkeypatch.setattr(RuleClass, "_compile_builder", werkzeugs)
    plain = _urls(Map(_rules()).bind("example.test"))

    assert shared[0] == shared[1] == plain
    assert plain[1] == "/?q=%C3%A4+b&n=1&n=2" and plain[6] == "/list/" and plain[-1] == "/v2"
    # The second map compiled only the rule whose default fills its own variable (both builders).
    assert compiled.count("/v<int:version>") == 4 and len(compiled) == 2 * len(_rules()) + 2, compiled

"""The tests' shared template cache (tests/fixtures/templates.py) hands a compiled template only to an
environment that would have compiled the very same code."""

from __future__ import annotations

import jinja2
import pytest
from flask import Flask, render_template

from tests.fixtures.templates import SHARED


def _app(folder, **filters) -> Flask:
    app = Flask(__name__, template_folder=str(folder))
    app.jinja_env.filters.update(filters)
    return app


def _render(app: Flask, template: str, **context) -> str:
    with app.app_context():
        return render_template(template, **context)


def _compiles(monkeypatch) -> list[str]:
    compiled: list[str] = []
    original = jinja2.Environment.compile

    def counting(self, source, name=None, filename=None, *args, **kwargs):
        compiled.append(name)
        return original(self, source, name, filename, *args, **kwargs)

    monkeypatch.setattr(jinja2.Environment, "compile", counting)
    return compiled


def test_a_second_app_reuses_the_first_apps_compiled_template(tmp_path, monkeypatch):
    assert Flask.jinja_options["bytecode_cache"] is SHARED
    (tmp_path / "hello.html").write_text("Hello {{ name }} & <b>{{ '<i>' }}</b>")
    compiled = _compiles(monkeypatch)
    first, second = _render(_app(tmp_path), "hello.html", name="Kari"), _render(_app(tmp_path), "hello.html", name="Aino")
    assert compiled == ["hello.html"]
    assert first == "Hello Kari & <b>&lt;i&gt;</b>" and second == "Hello Aino & <b>&lt;i&gt;</b>"


def test_a_changed_source_or_another_filter_set_compiles_again(tmp_path, monkeypatch):
    template = tmp_path / "shout.html"
    template.write_text("{{ word|shout }}")
    compiled = _compiles(monkeypatch)
    assert _render(_app(tmp_path, shout=str.upper), "shout.html", word="hei") == "HEI"
    # Without the filter the template does not compile: the other app's code is never handed over.
    with pytest.raises(jinja2.TemplateSyntaxError, match="No filter named 'shout'"):
        _render(_app(tmp_path), "shout.html", word="hei")
    template.write_text("{{ word|shout }}!")
    assert _render(_app(tmp_path, shout=str.upper), "shout.html", word="hei") == "HEI!"
    assert compiled == ["shout.html"] * 3

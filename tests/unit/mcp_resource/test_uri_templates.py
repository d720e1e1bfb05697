"""RFC 6570 level 1 URI templates: expansion, matching back to the values, and refused templates."""

from __future__ import annotations

import pytest

from mcp_resource.resources.uri_templates import UriTemplate, UriTemplateError


def test_expansion_percent_encodes_all_but_unreserved_characters():
    """RFC 6570 section 3.2.2: simple string expansion encodes every character outside unreserved."""
    template = UriTemplate("drawbridge://posts/{id}/{section}")

    assert template.variables == ("id", "section")
    assert template.expand({"id": "3", "section": "a/b c~é"}) == "drawbridge://posts/3/a%2Fb%20c~%C3%A9"


@pytest.mark.parametrize(
    ("uri", "values"),
    [
        ("drawbridge://posts/3/intro", {"id": "3", "section": "intro"}),
        ("drawbridge://posts/3/a%2Fb%20c~%C3%A9", {"id": "3", "section": "a/b c~é"}),
        ("drawbridge://posts/3/intro/more", None),
        ("drawbridge://posts//intro", None),
        ("drawbridge://posts/3/a b", None),
        ("drawbridge://posts/3/%FF", None),
        ("drawbridge://posts/3/%zz", None),
        ("Drawbridge://posts/3/intro", None),
        ("drawbridge://posts/3/intro?x=1", None),
    ],
    ids=["plain", "encoded", "extra-segment", "empty-value", "raw-space", "not-utf8", "bad-escape", "other-case", "query"],
)
def test_a_uri_matches_only_what_an_expansion_can_make(uri, values):
    assert UriTemplate("drawbridge://posts/{id}/{section}").match(uri) == values


def test_matching_undoes_expansion():
    template = UriTemplate("test://template/{id}/data")
    values = {"id": "ünïcode / and spaces"}

    assert template.match(template.expand(values)) == values


def test_a_template_without_variables_matches_itself_only():
    assert UriTemplate("test://static").match("test://static") == {}
    assert UriTemplate("test://static").match("test://static/") is None


@pytest.mark.parametrize(
    ("template", "message"),
    [
        ("test://{+path}", "not a level 1 expression"),
        ("test://{id*}", "not a level 1 expression"),
        ("test://{id:3}", "not a level 1 expression"),
        ("test://{}", "not a level 1 expression"),
        ("test://{id}/{id}", "appears twice"),
        ("test://{id", "holds a brace"),
        ("test://id}", "holds a brace"),
        ("test://a b/{id}", "holds a brace or a character a URI cannot"),
    ],
    ids=["reserved-operator", "explode", "prefix", "empty", "repeated", "unclosed", "unopened", "space"],
)
def test_templates_beyond_level_1_are_refused(template, message):
    with pytest.raises(UriTemplateError, match=message):
        UriTemplate(template)

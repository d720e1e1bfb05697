"""A person at a browser: follows redirects by hand, keeps cookies, fills forms, and sends the
Referer a browser would."""

from __future__ import annotations

import re
import ssl
from urllib.parse import parse_qs, urljoin, urlsplit

import httpx

_CSRF = re.compile(r'name="csrf_token" type="hidden" value="([^"]+)"')


class FormBrowser:
    def __init__(self, email: str, password: str, verify: ssl.SSLContext | bool = True) -> None:
        self.email = email
        self.password = password
        self.http = httpx.Client(timeout=10, follow_redirects=False, verify=verify)

    def consent(self, authorize_url: str, untick: tuple[str, ...] = (), decision: str = "approve") -> str:
        """Walk from the authorization URL through login and consent; return where the server sends us."""
        response = self.http.get(authorize_url)
        if response.status_code == 302 and "/login" in response.headers["Location"]:
            response = self.log_in(urljoin(authorize_url, response.headers["Location"]))
            response = self.http.get(urljoin(authorize_url, response.headers["Location"]))
        if response.status_code == 302:
            return response.headers["Location"]  # consent remembered: straight back to the client
        assert response.status_code == 200, response.text
        granted = [s for s in re.findall(r'name="granted" value="([^"]+)"', response.text) if s not in untick]
        form = {"csrf_token": csrf_token(response.text), "decision": decision, "granted": granted}
        answer = self.http.post(authorize_url, data=form, headers=referer(response))
        assert answer.status_code == 302, answer.text
        return answer.headers["Location"]

    def log_in(self, login_url: str) -> httpx.Response:
        page = self.http.get(login_url)
        next_url = parse_qs(urlsplit(login_url).query).get("next", ["/"])[0]
        form = {"csrf_token": csrf_token(page.text), "email": self.email, "password": self.password, "next": next_url}
        response = self.http.post(urljoin(login_url, "/login"), data=form, headers=referer(page))
        assert response.status_code == 302, response.text
        return response


def referer(page: httpx.Response) -> dict[str, str]:
    """The Referer a browser sends when it posts a form of `page` back to the page's own origin,
    as the page's Referrer-Policy lets it: none for no-referrer, the origin for origin and
    strict-origin, else the page's URL (over https the CSRF check requires one)."""
    policy = page.headers.get("Referrer-Policy", "strict-origin-when-cross-origin").split(",")[-1].strip().lower()
    if policy == "no-referrer":
        return {}
    if policy in ("origin", "strict-origin"):
        return {"Referer": f"{page.url.scheme}://{page.url.netloc.decode()}/"}
    return {"Referer": str(page.url)}


def csrf_token(html: str) -> str:
    match = _CSRF.search(html)
    assert match, "the page has no CSRF token"
    return match.group(1)


def query(url: str) -> dict[str, str]:
    return {k: v[0] for k, v in parse_qs(urlsplit(url).query).items()}

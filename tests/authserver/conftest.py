"""Fixtures of the authorization server's tests: a signed-in person's browser (the account pages),
an admin's (the admin console), and the audit trail's own database (test_usage.py, test_audit_log.py, test_audit_hours.py)."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace

import pytest
from flask import Flask
from sqlalchemy import delete

import authserver
from authserver.audit_hours import AuditHour
from authserver.audit_latency import AuditLatencyDay, AuditLatencyHour
from authserver.audit_summaries import AuditDayClient, AuditDayTool, AuditHourClient, AuditHourOutcome, AuditHourTool
from authserver.models import Client, User
from mcp_resource.models import AuditRecord
from shared.db import db
from tests.conftest import migrate
from tests.factories import make_user
from tests.page_browser import Browser


@pytest.fixture
def person(auth_context) -> User:
    return make_user()


@pytest.fixture
def browser(auth_app, person) -> Browser:
    """A browser on the in-process server, signed in as `person`."""
    browser = Browser(auth_app)
    browser.log_in(person.email)
    return browser


@pytest.fixture
def admin(auth_context) -> User:
    """A person holding the admin role."""
    return make_user(roles=("admin",))


@pytest.fixture
def admin_browser(auth_app, admin) -> Browser:
    """A browser on the in-process server, signed in as `admin`."""
    browser = Browser(auth_app)
    browser.log_in(admin.email)
    return browser


@pytest.fixture(params=["postgresql", "sqlite"], scope="module")
def usage_app(request, settings, create_database, tmp_path_factory) -> Flask:
    """An authorization server on a migrated database of its own: the figures are checked exactly,
    so no other test's audit rows may be in it."""
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path_factory.mktemp('usage') / 'usage.sqlite3'}"
    else:
        url = create_database("usage")
    own = replace(settings, database_url=url)
    migrate(own)
    return authserver.create_app(own)


@pytest.fixture
def usage_db(usage_app: Flask) -> Iterator[Flask]:
    """The app's context; the audit rows, counts and clients a test made are gone at its end (the
    code under test commits: the hourly counts are added by whoever reads first)."""
    with usage_app.app_context():
        yield usage_app
        db.session.rollback()
        for table in (AuditRecord, AuditHour, AuditLatencyHour, AuditDayTool, AuditDayClient, AuditHourTool, AuditHourClient, AuditHourOutcome, AuditLatencyDay, Client):
            db.session.execute(delete(table))
        db.session.commit()

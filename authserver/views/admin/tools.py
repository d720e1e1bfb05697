"""Tool switches in the admin console: which tools are switched off, and switching one, as
`drawbridge tools list|enable|disable` (mcp_resource/tool_states.py)."""

from __future__ import annotations

import logging

from flask import flash, g, redirect, render_template, request, url_for
from werkzeug.wrappers import Response

from authserver.forms import ConfirmForm
from authserver.views.admin.blueprint import bp, confirm_page
from authserver.views.pages import error_page
from mcp_resource import tool_states

logger = logging.getLogger(__name__)

Page = str | tuple[str, int]


@bp.get("/tools")
def tools_index() -> str:
    return render_template("admin/tools.html", user=g.user, tools=tool_states.switches(), form=ConfirmForm())


@bp.post("/tools/<name>/on")
def switch_on(name: str) -> Response | Page:
    return _switch(name, True)


@bp.route("/tools/<name>/off", methods=["GET", "POST"])
def switch_off(name: str) -> Response | Page:
    if request.method != "POST":
        if name not in {tool.name for tool in tool_states.switches()}:
            return _no_such_tool(f"no tool {name!r}")
        return confirm_page(
            f"Switch {name} off?",
            "It disappears from every client's tool list within seconds, and calls to it are refused until it is switched on again.",
            "Switch off",
            url_for("admin.tools_index"),
        )
    return _switch(name, False)


def _switch(name: str, enabled: bool) -> Response | Page:
    try:
        tool_states.switch(name, enabled)
    except tool_states.UnknownToolError as error:
        return _no_such_tool(str(error))
    logger.info("admin_tool_switched", extra={"user_id": g.user.id, "tool": name, "enabled": enabled})
    flash(f"{name} is {'on' if enabled else 'off'}; clients hear of it within seconds.", "success")
    return redirect(url_for("admin.tools_index"))


def _no_such_tool(detail: str) -> tuple[str, int]:
    return error_page("No such tool", "No installed tool has this name.", 404, detail, ("Back to Tools", url_for("admin.tools_index")))

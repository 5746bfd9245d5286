"""Daemons report each finished chapter here; booru counts them for /metrics."""
from __future__ import annotations

from flask import g
from flask_restful import Resource

from booru import metrics
from booru.api.base import body, responds
from booru.auth import requires
from booru.errors import Forbidden
from booru.schemas import ChapterSchema


class ChapterReport(Resource):
    @requires("greg", "parsa", "coco")
    @body(ChapterSchema)
    @responds(None, 204, "counted in lzbooru_daemon_chapters_total and lzbooru_daemon_items_total")
    def post(self, body):
        """Count one finished daemon chapter and its items (a daemon's key reports only itself)."""
        role = g.api_key.role
        if role != "admin" and role != body["daemon"]:
            raise Forbidden(f"a {role} key may not report chapters of {body['daemon']}")
        metrics.record_chapter(body["daemon"], body["counts"], body["elapsed"])
        return None, 204

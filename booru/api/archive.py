"""Subreddits, submissions, health and stats."""
from __future__ import annotations

import logging

from flask_restful import Resource

from booru.api.base import body, dump, instance, query, responds
from booru.auth import public, requires
from booru.func import stats, submissions, subreddits
from booru.schemas import (HealthSchema, StatsSchema, SubmissionBatchSchema, SubmissionListQuery, SubmissionListSchema,
                           SubmissionSchema, SubredditCreateSchema, SubredditDeleteQuery, SubredditListSchema,
                           SubredditRemovedSchema, SubredditSchema, SubredditUpdateSchema, UpsertResultSchema)

log = logging.getLogger(__name__)
EVERYONE = ("reader", "greg", "parsa", "coco")


class Health(Resource):
    @public
    @responds(HealthSchema, description="booru and its database answer")
    @responds(HealthSchema, 503, "the database is unavailable")
    def get(self):
        try:
            return {"status": "ok", "database": stats.database_state()}, 200
        except Exception as exc:  # any database failure is reported, never raised
            reason = str(getattr(exc, "orig", exc)).strip().splitlines()[0] if str(exc) else exc.__class__.__name__
            log.warning("health: database unavailable: %s", reason)  # its address is for the log, not the client
            return {"status": "unavailable", "database": "unavailable"}, 503


class Stats(Resource):
    @requires(*EVERYONE)
    @responds(StatsSchema, description="counts per state and the subreddits")
    def get(self):
        return dump(StatsSchema, stats.archive_stats())


class SubredditList(Resource):
    @requires(*EVERYONE)
    @responds(SubredditListSchema)
    def get(self):
        return dump(SubredditListSchema, {"items": subreddits.list_subreddits()})

    @requires("admin")
    @body(SubredditCreateSchema)
    @responds(SubredditSchema, 201, "registered after the source confirmed it exists")
    def post(self, body):
        return dump(SubredditSchema, subreddits.register_subreddit(body["name"], body.get("source")), 201)


class SubredditItem(Resource):
    @requires(*EVERYONE)
    @responds(SubredditSchema)
    def get(self, name):
        return dump(SubredditSchema, subreddits.get_subreddit(name))

    @requires("greg")
    @body(SubredditUpdateSchema)
    @responds(SubredditSchema, description="times only move forward")
    def put(self, name, body):
        return dump(SubredditSchema, subreddits.update_subreddit(name, body))

    @requires("admin")
    @query(SubredditDeleteQuery)
    @responds(SubredditRemovedSchema, description="unregistered with its submissions, links and images (counted)")
    @responds(None, 409, "not confirmed: the message and `errors` say what would be removed")
    def delete(self, name, args):
        return dump(SubredditRemovedSchema, subreddits.delete_subreddit(name, args.get("confirm")))


def _submission_view(row) -> dict:
    view = {c: getattr(row, c) for c in instance(SubmissionSchema).fields if c != "link"}
    view["link"] = f"https://redd.it/{row.id}"
    return view


class SubmissionList(Resource):
    @requires(*EVERYONE)
    @query(SubmissionListQuery)
    @responds(SubmissionListSchema)
    def get(self, args):
        rows, cursor = submissions.list_submissions(args.get("subreddit"), args["limit"], args.get("cursor"))
        return dump(SubmissionListSchema, {"items": [_submission_view(r) for r in rows], "cursor": cursor})

    @requires("greg")
    @body(SubmissionBatchSchema)
    @responds(UpsertResultSchema, description="idempotent upsert of submissions with their links")
    def post(self, body):
        return dump(UpsertResultSchema, submissions.upsert_submissions(body["submissions"]))


class SubmissionItem(Resource):
    @requires(*EVERYONE)
    @responds(SubmissionSchema)
    def get(self, submission_id):
        return dump(SubmissionSchema, _submission_view(submissions.get_submission(submission_id)))

"""`flask stats`: the archive and its queues at a glance."""
from __future__ import annotations

from datetime import datetime, timezone

from booru.extensions import db
from booru.models import Subreddit
from tests.booru.helpers import add_subreddit, submission


def test_stats_prints_totals_queues_and_each_subreddit(app, api):
    add_subreddit(app, "pics")
    add_subreddit(app, "art")
    with app.app_context():
        row = db.session.get(Subreddit, "art")
        row.source, row.updated = "arctic_shift", datetime(2024, 5, 1, 12, 30, tzinfo=timezone.utc)
        db.session.commit()
    subs = [submission("s1"), submission("s2"), submission("s3", url="https://v.redd.it/x", link_type=None)]
    api.post("/api/submission", json={"submissions": subs})
    api.post("/api/image", json={"images": [{"submission_id": "s1", "url": "https://i.redd.it/s1.jpg"}]},
             role="parsa")
    output = app.test_cli_runner().invoke(args=["stats"]).output
    lines = output.splitlines()
    assert "submissions  3" in lines and "fingerprints 0" in lines
    assert "links        total 3: pending 2  claimed 0  done 0  failed 0  dead 0  unsupported 1" in lines
    assert "images       total 1: pending 1  claimed 0  encoded 0  failed 0" in lines
    assert "subreddits   2" in lines
    art = next(line for line in lines if "r/art" in line)
    assert "source arctic_shift" in art and "updated 2024-05-01 12:30" in art and "last polled never" in art
    pics = next(line for line in lines if "r/pics" in line)
    assert "source reddit" in pics and "updated never" in pics

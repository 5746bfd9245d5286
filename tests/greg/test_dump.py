"""The dump scanner: filter, bad lines, batches, interruption, re-runs (booru replaced by a list
here; tests/greg/test_greg_live.py imports into a real booru)."""
from __future__ import annotations

from pathlib import Path

from greg.dump import Importer, candidate_lines, matcher, read_chunks
from tests.greg.dumps import dump_posts, write_dump

BAD = ('{"id": "broken", "subreddit": "pics", "title": ', "not json at all",
       '{"id":"nocreated","subreddit":"pics","title":"x"}', '["subreddit","pics"]')


class Recorder:
    def __init__(self, stop_after: int | None = None, importer: Importer | None = None):
        self.batches: list[list[dict]] = []
        self.stop_after = stop_after
        self.importer = importer

    def __call__(self, batch: list[dict]) -> None:
        self.batches.append(list(batch))
        if self.stop_after is not None and len(self.batches) >= self.stop_after:
            self.importer.stop.set()     # what the Ctrl-C handler does

    @property
    def ids(self) -> list[str]:
        return [s["id"] for b in self.batches for s in b]


def test_matcher_only_matches_the_subreddit_field():
    pattern = matcher(["Pics", "r/aww"])
    block = (b'{"subreddit":"pics","id":"1"}\n{"subreddit_name_prefixed":"r/pics","subreddit":"art"}\n'
             b'{"subreddit": "AWW", "id":"2"}\n{"title":"pics","subreddit":"picsandmore"}\n')
    assert list(candidate_lines(block, pattern)) == [b'{"subreddit":"pics","id":"1"}',
                                                     b'{"subreddit": "AWW", "id":"2"}']


def test_filter_formats_and_counts(tmp_path):
    posts = dump_posts(400, ("pics", "art", "EarthPorn", "aww"))
    path = write_dump(tmp_path / "RS_2024-01.zst", posts, BAD)
    sink = Recorder()
    stats = Importer(sink, ["PICS", "earthporn"], batch=64, show_progress=False).run([path])
    wanted = [p["id"] for p in posts if p["subreddit"].lower() in ("pics", "earthporn")]
    assert sorted(sink.ids) == sorted(wanted)
    assert stats.posted == stats.matched == 200 and stats.lines == 400 + 8
    assert stats.bad == 4      # bad lines naming pics; the others never match the filter
    assert all(len(b) <= 64 for b in sink.batches)
    sample = next(s for b in sink.batches for s in b if s["id"] == "d00000")
    assert sample["title"] == "Dump post 0 & <friends>"
    assert sample["links"] == [{"url": "https://i.redd.it/m0.jpeg", "type": "reddit"}]
    assert sample["created"] == "2024-01-01T00:00:00+00:00"


def test_no_filter_keeps_everything_and_counts_every_bad_line(tmp_path):
    posts = dump_posts(120, ("pics", "art"))
    path = write_dump(tmp_path / "RS.zst", posts, BAD)
    sink = Recorder()
    stats = Importer(sink, [], batch=1000, show_progress=False).run([path])
    assert len(sink.ids) == 120 and stats.bad == 3


def test_lines_split_across_chunks(tmp_path, monkeypatch):
    monkeypatch.setattr("greg.dump.CHUNK", 1000)
    posts = dump_posts(60, ("pics",))
    path = write_dump(tmp_path / "RS.zst", posts)
    assert sum(block.count(b"\n") for block in read_chunks(path)) == 60
    sink = Recorder()
    Importer(sink, ["pics"], show_progress=False).run([path])
    assert sorted(sink.ids) == sorted(p["id"] for p in posts)


def test_interrupted_then_rerun_gives_each_submission_once(tmp_path, monkeypatch):
    monkeypatch.setattr("greg.dump.CHUNK", 4096)
    posts = dump_posts(600, ("pics", "art"))
    files = [write_dump(tmp_path / "RS_2024-01.zst", posts[:300]),
             write_dump(tmp_path / "RS_2024-02.zst", posts[300:], case="upper")]
    booru: dict[str, dict] = {}          # stands in for booru's upsert by id

    first = Importer(lambda b: None, ["pics"], batch=25, show_progress=False)
    recorder = Recorder(stop_after=3, importer=first)
    first.sink = recorder
    stats = first.run(files)
    assert stats.interrupted and stats.posted == 75 == len(recorder.ids)
    assert all(len(b) == 25 for b in recorder.batches)          # nothing half-posted
    for batch in recorder.batches:
        booru.update((s["id"], s) for s in batch)

    again = Recorder()
    stats = Importer(again, ["pics"], batch=25, show_progress=False).run(files)
    assert not stats.interrupted
    for batch in again.batches:
        booru.update((s["id"], s) for s in batch)
    wanted = sorted(p["id"] for p in posts if p["subreddit"] == "pics")
    assert sorted(booru) == wanted and sorted(again.ids) == wanted


def test_truncated_file_is_reported_not_fatal(tmp_path, caplog):
    path = write_dump(tmp_path / "RS.zst", dump_posts(200, ("pics",)))
    path.write_bytes(path.read_bytes()[: path.stat().st_size // 2])
    sink = Recorder()
    stats = Importer(sink, ["pics"], show_progress=False).run([Path(path)])
    assert 0 < len(sink.ids) < 200 and stats.bad == 1
    assert any("truncated" in r.getMessage() for r in caplog.records)


def test_several_frames_are_all_read(tmp_path):
    first = write_dump(tmp_path / "a.zst", dump_posts(50, ("pics",)))
    second = write_dump(tmp_path / "b.zst", dump_posts(80, ("pics",))[50:])
    both = tmp_path / "RS.zst"
    both.write_bytes(first.read_bytes() + second.read_bytes())
    sink = Recorder()
    Importer(sink, ["pics"], show_progress=False).run([both])
    assert len(sink.ids) == 80

"""Faults the stack must survive, each against the real programs under supervisord: a daemon
SIGKILLed in the middle of a chapter, PostgreSQL away for 20 s, upstream storms, SIGTERM."""
from __future__ import annotations

import re
import threading
import time
from collections import Counter

import pytest
import requests

from tests.fakenet import FakeInternet
from tests.stack.checks import all_submissions_present, assert_archive, register
from tests.stack.gates import Gate, gate_comments, gate_image, gate_listing_page, listing_url
from tests.stack.stack import DAEMONS, PROGRAMS, Stack, group_alive
from tests.stack.world import World
from tests.support import wait_until

pytestmark = pytest.mark.slow


# -- helpers --------------------------------------------------------------------------------------

def start_world(live: Stack, world: World, *subreddits: str) -> None:
    for name in subreddits:
        world.route_about(name)
        if name not in world.routed:
            world.publish(name)
    register(live, *subreddits)


def settle(live: Stack, world: World, timeout: float = 120) -> None:
    """Every submission posted, the pipeline drained, the archive exactly as expected."""
    wait_until(lambda: all_submissions_present(live, world.expected), timeout=60, interval=0.5,
               message="every submission posted")
    live.wait_drained(timeout)
    assert_archive(live, world.expected)


def kill_and_wait_restart(live: Stack, program: str) -> None:
    """SIGKILL the program's main process; supervisord restarts it; none of its children linger."""
    pid = live.kill(program)
    wait_until(lambda: live.restarted(program, pid), timeout=30, interval=0.2,
               message=f"supervisord restarting {program}")
    wait_until(lambda: not group_alive(pid), timeout=20, interval=0.2,
               message=f"the killed {program}'s children (process group {pid}) to exit")


def uptimes(live: Stack) -> dict[str, tuple[int, int]]:
    """(pid, start time) per program: unchanged means it never exited."""
    return {name: (info["pid"], info["start"]) for name in PROGRAMS for info in [live.info(name)]}


def log_offsets(live: Stack) -> dict[str, int]:
    return {name: len(live.log(name)) for name in PROGRAMS}


def new_log(live: Stack, program: str, offsets: dict[str, int]) -> str:
    return live.log(program)[offsets[program]:]


def mixed_posts(world: World, subreddit: str, images: int = 6, galleries: int = 3, imgur: int = 3) -> None:
    for _ in range(images):
        world.reddit_image(subreddit)
    for _ in range(galleries):
        world.gallery(subreddit, size=2)
    for _ in range(imgur):
        world.imgur_image(subreddit)
    world.imgur_album(subreddit, size=2)
    world.danbooru(subreddit)
    world.generic(subreddit)
    world.dead_link(subreddit)


# -- SIGKILL in the middle of a chapter -------------------------------------------------------------

def test_greg_killed_mid_walk_loses_and_duplicates_nothing(live: Stack, net: FakeInternet):
    """150 posts served 25 a page; greg posts every 100 it reads, so when it is killed on the
    fifth page its first 100 are in booru, the rest not, and its high-water mark must not have moved."""
    name = "lzbstack_killgreg"
    world = World(net, "lzkg")
    for n in range(150):
        world.reddit_image(name) if n % 5 == 0 else world.video(name)
    newest_first = sorted(world.posts[name], key=lambda p: -float(p["created_utc"]))
    gate = Gate(limit=2)  # holds the killed greg and the restarted one at the same page
    gate_listing_page(world, name, newest_first[99]["name"], gate, page_size=25)  # the fifth page
    start_world(live, world, name)
    gate.wait_entered()
    wait_until(lambda: len(live.submissions(name)) == 100, timeout=30, interval=0.2,
               message="greg's first 100 posts in booru")
    kill_and_wait_restart(live, "greg")
    wait_until(lambda: gate.held == 2, timeout=30, interval=0.2, message="the new greg at the fifth page")
    assert live.get(f"/subreddit/{name}")["updated"] is None  # no high-water mark from a partial walk
    gate.release()
    settle(live, world)
    assert len(live.submissions(name)) == 150


def test_parsa_killed_mid_chapter_loses_and_duplicates_nothing(live: Stack, net: FakeInternet):
    name = "lzbstack_killparsa"
    world = World(net, "lzkp")
    galleries = [world.gallery(name, size=2) for _ in range(6)]
    mixed_posts(world, name, images=4, galleries=0, imgur=4)
    gate = Gate(limit=2)
    for post in galleries[:3]:
        gate_comments(net, post, gate)
    start_world(live, world, name)
    gate.wait_entered()
    assert live.stats()["links"]["claimed"] > 0  # a batch is leased to the parsa about to die
    kill_and_wait_restart(live, "parsa")
    gate.release()
    settle(live, world)


def test_coco_killed_mid_chapter_loses_and_duplicates_nothing(live: Stack, net: FakeInternet):
    name = "lzbstack_killcoco"
    world = World(net, "lzkc")
    mixed_posts(world, name, images=12, galleries=2, imgur=2)
    gate = Gate(limit=3)
    for (sid, url), data in list(world.expected.images.items())[:4]:
        gate_image(net, url, data, gate)
    start_world(live, world, name)
    gate.wait_entered()
    time.sleep(0.5)  # the rest of the batch downloading and encoding meanwhile
    assert live.stats()["images"]["claimed"] > 0  # a batch is leased to the coco about to die
    kill_and_wait_restart(live, "coco")
    gate.release()
    settle(live, world)


# -- PostgreSQL away ------------------------------------------------------------------------------

def assert_unavailable(answer: requests.Response) -> None:
    assert answer.status_code == 503, (answer.status_code, answer.text[:500])
    assert answer.headers["Content-Type"].startswith("application/json"), answer.headers
    body = answer.json()
    assert isinstance(body.get("message"), str) and body["message"], body
    assert "Traceback" not in answer.text and "File \"" not in answer.text, answer.text


def probe_outage(live: Stack, net: FakeInternet) -> None:
    """What clients see while the database is away: 503 + a JSON message, never a traceback."""
    # A search for an image that can be fetched, so it goes as far as the database (booru checks a
    # key it verified lately no more; an image that cannot be fetched is a 422 whatever the database).
    net.route_image("https://copies.example.net/x.jpg")
    for method, path, kwargs in (("GET", "/stats", {}), ("GET", "/image", {"params": {"state": "any"}}),
                                 ("GET", "/subreddit", {}), ("POST", "/link/claim", {"json": {"limit": 1}}),
                                 ("POST", "/similarity/url", {"json": {"url": "https://copies.example.net/x.jpg"}})):
        assert_unavailable(live.request(method, path, timeout=30, **kwargs))
    health = requests.get(f"{live.url}/health", timeout=30)
    assert health.status_code == 503 and health.json()["status"] == "unavailable", health.text


def in_flight(live: Stack) -> bool:
    """Coco in the middle of a batch while parsa still has links leased or waiting."""
    stats = live.stats()
    links = stats["links"]
    return stats["images"]["claimed"] > 0 and links["claimed"] + links["pending"] > 0


def slow_busy_world(net: FakeInternet, prefix: str, name: str) -> World:
    """A slow internet and enough links for several parsa batches and coco batches in a row."""
    world = World(net, prefix)
    world.delay = 0.5
    mixed_posts(world, name, images=16, galleries=4, imgur=8)
    return world


def test_database_stopped_for_20s_booru_answers_503_daemons_resume(live: Stack, net: FakeInternet):
    name = "lzbstack_dbdown"
    world = slow_busy_world(net, "lzdb", name)
    start_world(live, world, name)
    wait_until(lambda: in_flight(live), timeout=60, interval=0.1, message="coco mid-batch, parsa with links left")
    before = uptimes(live)
    offsets = log_offsets(live)

    stopped_at = time.monotonic()
    assert live.ctl("stop", "database").returncode == 0
    assert live.info("database")["statename"] == "STOPPED"
    world.clock = max(float(p["created_utc"]) for p in world.posts[name]) + 3600
    for _ in range(3):
        world.reddit_image(name)  # new posts while the database is away, newer than the rest
    world.publish(name)
    probe_outage(live, net)
    time.sleep(max(0.0, 20 - (time.monotonic() - stopped_at)))
    probe_outage(live, net)
    assert live.ctl("start", "database").returncode == 0
    restarted_at = time.monotonic()

    live.wait_healthy(60)
    settle(live, world)
    fetched = Counter(r.url for r in net.requests if r.method == "GET" and "/lzdb" in r.url)
    print(f"drained {time.monotonic() - restarted_at:.1f}s after the database came back; "
          f"{sum(n > 1 for n in fetched.values())} of {len(fetched)} upstream URLs fetched again "
          "(work finished during the outage is redone once its lease expires)")
    assert uptimes(live) == {**before, "database": uptimes(live)["database"]}, "a program exited"
    for daemon in DAEMONS:
        text = new_log(live, daemon, offsets)
        assert re.search(r"503|unavailable", text), f"{daemon} did not notice the outage:\n{text[-2000:]}"
    for program in ("booru", *DAEMONS):
        text = new_log(live, program, offsets)
        assert "Traceback" not in text, f"{program}:\n{text[-4000:]}"


# -- upstream storms ------------------------------------------------------------------------------

class Storm:
    """Faults programmed on the fake internet, counted per URL so the test can check they hit."""

    def __init__(self, net: FakeInternet):
        self.net = net
        self.planned: dict[str, int] = {}

    def fail(self, url: str, status: int, retry_after: str | None = None) -> None:
        self.net.fail(url, times=1, status=status, headers={"Retry-After": retry_after} if retry_after else None)
        self.planned[url] = self.planned.get(url, 0) + 1

    def hang(self, url: str, seconds: float, trickle: bool) -> None:
        self.net.hang(url, times=1, seconds=seconds, trickle=trickle)
        self.planned[url] = self.planned.get(url, 0) + 1

    def unspent(self) -> dict[str, int]:
        """URLs asked fewer times than their faults + 1 (a fault never served, or no success after)."""
        return {url: n for url, n in self.planned.items() if len(self.net.seen(url)) < n + 1}


def storm(net: FakeInternet, world: World, name: str) -> Storm:
    """429 with and without Retry-After, 5xx and timeouts on every kind of upstream, at most two
    per URL (a link or image is given up after MAX_TRIES=3 failures)."""
    weather = Storm(net)
    listing = listing_url(name)
    weather.fail(listing, 429, retry_after="1")
    weather.fail(listing, 429)
    weather.fail(listing, 503)
    urls = [url for _, url in world.expected.images]
    reddit_images = [u for u in urls if "i.redd.it" in u]
    for url in reddit_images[0:3]:
        weather.fail(url, 429, retry_after="1")
        weather.fail(url, 429, retry_after="1")
    for url in reddit_images[3:6]:
        weather.fail(url, 429)
        weather.fail(url, 500)
    for url in reddit_images[6:8]:
        weather.hang(url, seconds=6, trickle=False)  # silent: the read timeout
    for url in reddit_images[8:10]:
        weather.hang(url, seconds=12, trickle=True)  # a byte at a time: the fetch deadline
    for url in [u for u in urls if "i.imgur.com" in u][:2]:
        weather.fail(url, 502)
    for post in world.posts[name]:
        if post["domain"] == "imgur.com":
            image_id = post["url"].rsplit("/", 1)[-1]
            api = f"https://api.imgur.com/3/{'album' if '/a/' in post['url'] else 'image'}/{image_id}"
            weather.fail(api, 429, retry_after="1")
            weather.fail(api, 500)
        elif post.get("is_gallery"):
            weather.fail(f"https://oauth.reddit.com/comments/{post['id']}", 429)
            weather.hang(f"https://oauth.reddit.com/comments/{post['id']}", seconds=6, trickle=False)
    return weather


def storm_mid_walk(weather: Storm, world: World, name: str, posts: int = 120, page: int = 25) -> None:
    """A long history (videos: no images to fetch) whose third and fourth pages fail."""
    for _ in range(posts):
        world.video(name)
    world.publish(name, page_size=page)
    newest_first = sorted(world.posts[name], key=lambda p: -float(p["created_utc"]))
    third, fourth = (f"{listing_url(name)}?after={newest_first[n * page - 1]['name']}" for n in (2, 3))
    weather.fail(third, 429)
    for _ in range(3):
        weather.fail(fourth, 500)  # more than prawcore's own retries


def test_upstream_storms_everything_collected_no_daemon_exits(live: Stack, net: FakeInternet):
    name, walk = "lzbstack_storm", "lzbstack_stormwalk"
    world = World(net, "lzst")
    mixed_posts(world, name, images=12, galleries=3, imgur=3)
    before = uptimes(live)
    offsets = log_offsets(live)
    for subreddit in (name, walk):
        world.route_about(subreddit)
    world.publish(name)
    weather = storm(net, world, name)
    storm_mid_walk(weather, world, walk)
    start_world(live, world, name, walk)
    settle(live, world, timeout=150)
    assert not weather.unspent(), weather.unspent()
    assert uptimes(live) == before, "a program exited during the storm"
    problems = {program: new_log(live, program, offsets) for program in ("booru", *DAEMONS)}
    assert "429" in problems["greg"] and "429" in problems["coco"], problems
    for daemon, text in problems.items():
        assert "Traceback" not in text, f"{daemon}:\n{text[-4000:]}"


# -- SIGTERM --------------------------------------------------------------------------------------

STOPWAITSECS = {"database": 60, "booru": 40, "greg": 120, "parsa": 120, "coco": 120}


def stop_cleanly(live: Stack, program: str) -> float:
    """`supervisorctl stop`: the program must exit 0 well within its stopwaitsecs."""
    began = time.monotonic()
    done = live.ctl("stop", program)
    elapsed = time.monotonic() - began
    info = live.info(program)
    assert done.returncode == 0 and info["statename"] == "STOPPED", (done.stdout, done.stderr, info)
    assert info["exitstatus"] == 0, f"{program} exited {info['exitstatus']}\n{live.tails()}"
    assert elapsed < STOPWAITSECS[program], f"{program} took {elapsed:.1f}s to stop"
    assert re.search(rf"stopped: {program} \(exit status 0\)", live.supervisor_log()), live.supervisor_log()[-2000:]
    return elapsed


def stop_while_held(live: Stack, program: str, gate: Gate, hold: float = 1.0) -> float:
    """SIGTERM the program while its upstream request is held; the answer comes `hold` s later."""
    result: dict[str, float] = {}
    worker = threading.Thread(target=lambda: result.update(elapsed=stop_cleanly(live, program)))
    worker.start()
    time.sleep(hold)
    gate.release()
    worker.join(STOPWAITSECS[program] + 10)
    assert "elapsed" in result, f"stopping {program} failed; see the assertion above\n{live.tails()}"
    return result["elapsed"]


def test_sigterm_each_program_exits_0_within_stopwaitsecs_mid_batch(live: Stack, net: FakeInternet):
    name = "lzbstack_sigterm"
    world = World(net, "lzsg")
    mixed_posts(world, name, images=6, galleries=3, imgur=2)
    greg_gate, parsa_gate, coco_gate = Gate(), Gate(limit=10), Gate(limit=10)
    world.publish(name, wrap=greg_gate.wrap)
    gate_comments(net, world.posts[name][6], parsa_gate)
    for (sid, url), data in list(world.expected.images.items())[:2]:
        gate_image(net, url, data, coco_gate)
    start_world(live, world, name)
    times, leased = {}, {}
    greg_gate.wait_entered()  # greg in the middle of its walk
    times["greg"] = stop_while_held(live, "greg", greg_gate)
    assert live.ctl("start", "greg").returncode == 0
    parsa_gate.wait_entered()  # parsa in the middle of a batch
    times["parsa"] = stop_while_held(live, "parsa", parsa_gate)
    leased["links"] = live.stats()["links"]["claimed"]  # not started: given back
    coco_gate.wait_entered()  # coco in the middle of a batch
    times["coco"] = stop_while_held(live, "coco", coco_gate)
    leased["images"] = live.stats()["images"]["claimed"]
    times.update({program: stop_cleanly(live, program) for program in ("booru", "database")})
    print("stop times:", {k: round(v, 1) for k, v in times.items()}, "left leased:", leased)
    assert leased == {"links": 0, "images": 0}, "a stopping daemon gives back what it did not begin"
    live.ensure_running()
    settle(live, world)


# -- booru and PostgreSQL killed ------------------------------------------------------------------

@pytest.mark.parametrize("program", ["booru", "database"])
def test_booru_or_database_killed_mid_run_restarts_and_nothing_is_lost(live: Stack, net: FakeInternet, program: str):
    """SIGKILL gunicorn's master or the postmaster (its workers/backends orphaned) while parsa and
    coco are mid-batch: supervisord restarts it, booru answers again, the pipeline finishes."""
    name = f"lzbstack_kill{program[:4]}"
    world = slow_busy_world(net, f"lzk{program[0]}", name)
    start_world(live, world, name)
    wait_until(lambda: in_flight(live), timeout=60, interval=0.1, message="coco mid-batch, parsa with links left")
    offsets = log_offsets(live)
    pid = live.kill(program)
    wait_until(lambda: live.restarted(program, pid), timeout=60, interval=0.2,
               message=f"supervisord restarting {program}")
    live.wait_healthy(90)
    settle(live, world)
    wait_until(lambda: not group_alive(pid), timeout=30, interval=0.2,
               message=f"the killed {program}'s children (process group {pid}) to exit")
    for daemon in DAEMONS:
        assert "Traceback" not in new_log(live, daemon, offsets), new_log(live, daemon, offsets)[-4000:]

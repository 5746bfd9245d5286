"""Marshmallow schemas: request validation, response shapes and the OpenAPI document."""
from __future__ import annotations

from datetime import timezone

from marshmallow import EXCLUDE, Schema, fields, validate

from booru.models import IMAGE_STATES, LINK_STATES, LINK_TYPES
from common.regions import WINDOWS

HEX16 = validate.Regexp(r"^[0-9a-fA-F]{16}$", error="16 hexadecimal digits")
MD5 = validate.Regexp(r"^[0-9a-fA-F]{32}$", error="32 hexadecimal digits")
SHA256 = validate.Regexp(r"^[0-9a-fA-F]{64}$", error="64 hexadecimal digits")
SUBREDDIT_NAME = validate.Regexp(r"^[A-Za-z0-9_]{2,21}$", error="2 to 21 letters, digits or underscores")
POST_ID = validate.Regexp(r"^[a-z0-9]{1,16}$", error="a base-36 Reddit id without the t3_ prefix")
ALGORITHMS = ("visual", "combined", "dhash_xor_norm", "abs_norm", "eucl_norm")
DEFAULT_ALGORITHM = "visual"
MAX_BATCH = 5000
MAX_LIMIT = 1000


class Base(Schema):
    class Meta:
        unknown = EXCLUDE


# errors
class ErrorSchema(Base):
    message = fields.String(required=True)
    errors = fields.Dict(keys=fields.String(), values=fields.Raw())


# subreddits
class SubredditSchema(Base):
    name = fields.String(required=True)
    created = fields.DateTime()
    updated = fields.DateTime(allow_none=True)
    source = fields.String(allow_none=True)
    backfilled_until = fields.DateTime(allow_none=True)
    last_polled = fields.DateTime(allow_none=True)


class SubredditListSchema(Base):
    items = fields.List(fields.Nested(SubredditSchema), required=True)


class SubredditCreateSchema(Base):
    name = fields.String(required=True, validate=SUBREDDIT_NAME)
    source = fields.String(allow_none=True, validate=validate.Length(max=32))


class SubredditDeleteQuery(Base):
    confirm = fields.String(metadata={"description": "the subreddit's name again; without it nothing is deleted "
                                                     "and the 409 answer says what would be"})


class SubredditRemovedSchema(Base):
    submissions = fields.Integer(required=True)
    links = fields.Integer(required=True)
    images = fields.Integer(required=True)


class SubredditUpdateSchema(Base):
    updated = fields.DateTime(allow_none=True)
    backfilled_until = fields.DateTime(allow_none=True)
    last_polled = fields.DateTime(allow_none=True)
    source = fields.String(allow_none=True, validate=validate.Length(max=32))


# submissions and links
LINK_TYPE_DOC = ("left out: booru classifies the URL (common.links); null: unsupported, as the poster says "
                 "(self posts)")


class LinkInSchema(Base):
    url = fields.String(required=True, validate=validate.Length(min=1, max=4096))
    type = fields.String(allow_none=True, validate=validate.OneOf(LINK_TYPES), metadata={"description": LINK_TYPE_DOC})


class SubmissionInSchema(Base):
    id = fields.String(required=True, validate=POST_ID)
    title = fields.String(required=True, validate=validate.Length(max=300))
    author = fields.String(allow_none=True, load_default=None, validate=validate.Length(max=20))
    subreddit = fields.String(required=True, validate=SUBREDDIT_NAME)
    created = fields.DateTime(required=True)
    flair = fields.String(allow_none=True, load_default=None, validate=validate.Length(max=64))
    nsfw = fields.Boolean(load_default=False)
    removed = fields.String(allow_none=True, load_default=None, validate=validate.Length(max=32))
    crosspost_parent = fields.String(allow_none=True, load_default=None, validate=POST_ID)
    links = fields.List(fields.Nested(LinkInSchema), load_default=list, validate=validate.Length(max=1))


class SubmissionBatchSchema(Base):
    submissions = fields.List(fields.Nested(SubmissionInSchema), required=True,
                              validate=validate.Length(min=1, max=MAX_BATCH))


class UpsertResultSchema(Base):
    received = fields.Integer(required=True)
    created = fields.Integer(required=True)
    reused = fields.Integer(metadata={"description": "images given the fingerprints of a known twin"})


class SubmissionSchema(Base):
    id = fields.String(required=True)
    title = fields.String()
    author = fields.String(allow_none=True)
    subreddit = fields.String()
    created = fields.DateTime()
    flair = fields.String(allow_none=True)
    nsfw = fields.Boolean()
    removed = fields.String(allow_none=True)
    crosspost_parent = fields.String(allow_none=True)
    link = fields.String(allow_none=True, metadata={"description": "https://redd.it/<id>"})


class SubmissionListQuery(Base):
    subreddit = fields.String(validate=SUBREDDIT_NAME)
    limit = fields.Integer(load_default=100, validate=validate.Range(min=1, max=MAX_LIMIT))
    cursor = fields.String(validate=POST_ID)


class SubmissionListSchema(Base):
    items = fields.List(fields.Nested(SubmissionSchema), required=True)
    cursor = fields.String(allow_none=True)


class LinkSchema(Base):
    id = fields.String(required=True)
    url = fields.String()
    type = fields.String(allow_none=True)
    state = fields.String()
    tries = fields.Integer()
    error = fields.String(allow_none=True)
    lease = fields.String(allow_none=True)
    created = fields.DateTime()
    last_visited = fields.DateTime(allow_none=True)


class LinkListSchema(Base):
    items = fields.List(fields.Nested(LinkSchema), required=True)
    cursor = fields.String(allow_none=True)


class LinkListQuery(Base):
    state = fields.String(validate=validate.OneOf(LINK_STATES))
    limit = fields.Integer(load_default=100, validate=validate.Range(min=1, max=MAX_LIMIT))
    cursor = fields.String()


class LinkPostSchema(Base):
    id = fields.String(required=True, validate=POST_ID)
    url = fields.String(required=True, validate=validate.Length(min=1, max=4096))
    type = fields.String(allow_none=True, validate=validate.OneOf(LINK_TYPES), metadata={"description": LINK_TYPE_DOC})


class LinkPostBatchSchema(Base):
    links = fields.List(fields.Nested(LinkPostSchema), required=True, validate=validate.Length(min=1, max=MAX_BATCH))


class ClaimSchema(Base):
    limit = fields.Integer(load_default=50, validate=validate.Range(min=1, max=MAX_LIMIT))
    type = fields.String(allow_none=True, load_default=None, validate=validate.OneOf(LINK_TYPES))


def _reports(id_field: fields.Field, what: str) -> tuple[type[Schema], type[Schema]]:
    """Schemas of lease reports for one queue: done ({id, lease}) and failed (+ error, permanent …)."""
    lease = Base.from_dict({"id": id_field, "lease": fields.UUID(required=True)}, name=f"{what}Lease")
    failure = Base.from_dict({
        "id": id_field, "lease": fields.UUID(required=True),
        "error": fields.String(load_default="unknown error", validate=validate.Length(max=2000)),
        "permanent": fields.Boolean(load_default=False),
        "unsupported": fields.Boolean(load_default=False, metadata={"description": "links: no resolver can use it"}),
        "retry_after": fields.Integer(allow_none=True, load_default=None, validate=validate.Range(min=0, max=30 * 86400)),
    }, name=f"{what}Failure")
    many = validate.Length(min=1, max=MAX_LIMIT)
    done_batch = Base.from_dict({"items": fields.List(fields.Nested(lease), required=True, validate=many)},
                                  name=f"{what}LeaseBatch")
    failure_batch = Base.from_dict({"items": fields.List(fields.Nested(failure), required=True, validate=many)},
                                     name=f"{what}FailureBatch")
    return done_batch, failure_batch


IMAGE_ID = validate.Range(min=1, max=2**63 - 1)
BIN = validate.Range(min=0, max=2**31 - 1)
LinkLeaseBatchSchema, LinkFailureBatchSchema = _reports(fields.String(required=True, validate=POST_ID), "Link")
ImageLeaseBatchSchema, ImageFailureBatchSchema = _reports(fields.Integer(required=True, validate=IMAGE_ID), "Image")


class ReportResultSchema(Base):
    updated = fields.Integer(required=True)
    shared = fields.Integer(metadata={"description": "pending twins given the same fingerprints"})


class ClaimedLinkSchema(Base):
    id = fields.String(required=True)
    url = fields.String(required=True)
    type = fields.String(allow_none=True)
    tries = fields.Integer()
    lease = fields.String(required=True)


class ClaimedLinkListSchema(Base):
    items = fields.List(fields.Nested(ClaimedLinkSchema), required=True)
    lease_expires = fields.DateTime(allow_none=True)


# images
class ImageInSchema(Base):
    submission_id = fields.String(required=True, validate=POST_ID)
    url = fields.String(required=True, validate=validate.Length(min=1, max=4096))
    position = fields.Integer(load_default=0, validate=validate.Range(min=0, max=1000))
    md5 = fields.String(allow_none=True, load_default=None, validate=MD5)
    source_url = fields.String(allow_none=True, load_default=None, validate=validate.Length(max=4096))
    posted = fields.DateTime(allow_none=True, load_default=None)
    tags = fields.List(fields.String(validate=validate.Length(min=1, max=255)), load_default=list,
                       validate=validate.Length(max=1000))


class ImageBatchSchema(Base):
    images = fields.List(fields.Nested(ImageInSchema), required=True, validate=validate.Length(min=1, max=MAX_BATCH))


class ImageSchema(Base):
    id = fields.Integer(required=True)
    url = fields.String()
    submission_id = fields.String()
    state = fields.String()
    sha256 = fields.String(allow_none=True)
    md5 = fields.String(allow_none=True)
    width = fields.Integer(allow_none=True)
    height = fields.Integer(allow_none=True)
    bytes = fields.Integer(allow_none=True)
    mime = fields.String(allow_none=True)
    source_url = fields.String(allow_none=True)
    posted = fields.DateTime(allow_none=True)
    last_error = fields.String(allow_none=True)
    tags = fields.List(fields.String())
    subreddit = fields.String()
    author = fields.String(allow_none=True)
    title = fields.String()
    nsfw = fields.Boolean()
    created = fields.DateTime()


class ImageListSchema(Base):
    items = fields.List(fields.Nested(ImageSchema), required=True)
    cursor = fields.String(allow_none=True, metadata={"description": "pass as ?cursor= for the next page"})


class ImageListQuery(Base):
    tags = fields.String(metadata={"description": "space-separated; `-tag` excludes, e.g. `character:lara_croft -rating:explicit`"})
    subreddit = fields.String(validate=SUBREDDIT_NAME)
    author = fields.String(validate=validate.Length(max=20))
    nsfw = fields.Boolean()
    state = fields.String(load_default="encoded", validate=validate.OneOf(IMAGE_STATES + ("any",)), metadata={
        "description": "default `encoded`: the archive; `pending`, `claimed` or `failed` for the work queue, `any`"})
    limit = fields.Integer(load_default=100, validate=validate.Range(min=1, max=MAX_LIMIT))
    cursor = fields.String(validate=validate.Regexp(r"^[0-9]{1,19}$", error="a cursor from a previous page"))


class ImageClaimSchema(Base):
    limit = fields.Integer(load_default=50, validate=validate.Range(min=1, max=MAX_LIMIT))


class ClaimedImageSchema(Base):
    id = fields.Integer(required=True)
    url = fields.String(required=True)
    md5 = fields.String(allow_none=True)
    lease = fields.String(required=True)


class ClaimedImageListSchema(Base):
    items = fields.List(fields.Nested(ClaimedImageSchema), required=True)
    lease_expires = fields.DateTime(allow_none=True)


HistogramChannels = Base.from_dict({
    c: fields.List(fields.Integer(validate=BIN), required=True, validate=validate.Length(equal=4))
    for c in ("red", "green", "blue")}, name="HistogramChannels")
DhashChannels = Base.from_dict({c: fields.String(required=True, validate=HEX16) for c in ("red", "green", "blue")},
                                 name="DhashChannels")

HEX48 = validate.Regexp(r"^[0-9a-fA-F]{48}$", error="48 hexadecimal digits")


def regions_field() -> fields.List:
    """The region dhashes of an image's thumbnail (common.fingerprint.thumbnail_regions)."""
    return fields.List(fields.String(validate=HEX48), allow_none=True, load_default=None,
                       validate=validate.Length(equal=len(WINDOWS)),
                       metadata={"description": "the thumbnail's region dhashes for the visual search, "
                                                "one per window, each 3 words as 48 hex digits"})


MAX_THUMBNAIL_BASE64 = 700_000  # about 512 KiB of JPEG


class ThumbnailInSchema(Base):
    width = fields.Integer(required=True, validate=validate.Range(min=1, max=4096))
    height = fields.Integer(required=True, validate=validate.Range(min=1, max=4096))
    data = fields.String(required=True, validate=validate.Length(min=1, max=MAX_THUMBNAIL_BASE64),
                         metadata={"description": "the JPEG, base64"})


class FingerprintSchema(Base):
    id = fields.Integer(required=True, validate=IMAGE_ID)
    lease = fields.UUID(required=True)
    sha256 = fields.String(required=True, validate=SHA256)
    md5 = fields.String(required=True, validate=MD5)
    width = fields.Integer(required=True, validate=validate.Range(min=1, max=2**31 - 1))
    height = fields.Integer(required=True, validate=validate.Range(min=1, max=2**31 - 1))
    bytes = fields.Integer(required=True, validate=validate.Range(min=1, max=2**63 - 1))
    mime = fields.String(required=True, validate=validate.Length(max=32))
    histogram = fields.Nested(HistogramChannels, required=True)
    dhash = fields.Nested(DhashChannels, required=True)
    version = fields.Integer(load_default=1, validate=validate.Range(min=1, max=32767),
                             metadata={"description": "how the fingerprints were computed"})
    thumbnail = fields.Nested(ThumbnailInSchema, allow_none=True, load_default=None)
    regions = regions_field()


class FingerprintBatchSchema(Base):
    items = fields.List(fields.Nested(FingerprintSchema), required=True, validate=validate.Length(min=1, max=MAX_LIMIT))


# re-fingerprinting images stored with an older fingerprint version
class UpgradeClaimSchema(Base):
    limit = fields.Integer(load_default=50, validate=validate.Range(min=1, max=MAX_LIMIT))
    version = fields.Integer(required=True, validate=validate.Range(min=1, max=32767),
                             metadata={"description": "the claimer's version: images below it are claimed"})


class ClaimedUpgradeSchema(Base):
    id = fields.Integer(required=True)
    url = fields.String(required=True)
    lease = fields.String(required=True)
    thumbnail = fields.Boolean(required=True, metadata={"description": "GET /api/image/<id>/thumbnail has one"})


class ClaimedUpgradeListSchema(Base):
    items = fields.List(fields.Nested(ClaimedUpgradeSchema), required=True)


class UpgradeSchema(Base):
    id = fields.Integer(required=True, validate=IMAGE_ID)
    lease = fields.UUID(required=True)
    version = fields.Integer(required=True, validate=validate.Range(min=1, max=32767))
    histogram = fields.Nested(HistogramChannels, required=True)
    dhash = fields.Nested(DhashChannels, required=True)
    thumbnail = fields.Nested(ThumbnailInSchema, allow_none=True, load_default=None)
    regions = regions_field()


class UpgradeBatchSchema(Base):
    items = fields.List(fields.Nested(UpgradeSchema), required=True, validate=validate.Length(min=1, max=MAX_LIMIT))


class HistogramInSchema(Base):
    id = fields.Integer(required=True, validate=IMAGE_ID)
    red = fields.List(fields.Integer(validate=BIN), required=True, validate=validate.Length(equal=4))
    green = fields.List(fields.Integer(validate=BIN), required=True, validate=validate.Length(equal=4))
    blue = fields.List(fields.Integer(validate=BIN), required=True, validate=validate.Length(equal=4))


class DhashInSchema(Base):
    id = fields.Integer(required=True, validate=IMAGE_ID)
    red = fields.String(required=True, validate=HEX16)
    green = fields.String(required=True, validate=HEX16)
    blue = fields.String(required=True, validate=HEX16)


class HistogramBatchSchema(Base):
    items = fields.List(fields.Nested(HistogramInSchema), required=True, validate=validate.Length(min=1, max=MAX_BATCH))


class DhashBatchSchema(Base):
    items = fields.List(fields.Nested(DhashInSchema), required=True, validate=validate.Length(min=1, max=MAX_BATCH))


# search
CONFIDENCES = ("match", "likely", "weak")


class PostFilterQuery(Base):
    subreddit = fields.String(load_default=None, validate=SUBREDDIT_NAME,
                              metadata={"description": "only posts in this subreddit"})
    author = fields.String(load_default=None, validate=validate.Length(min=1, max=20),
                           metadata={"description": "only posts by this author"})
    nsfw = fields.Boolean(load_default=None, metadata={"description": "only NSFW (true) or only SFW (false) posts"})
    after = fields.AwareDateTime(load_default=None, default_timezone=timezone.utc,
                                 metadata={"description": "only posts created at or after this time"})
    before = fields.AwareDateTime(load_default=None, default_timezone=timezone.utc,
                                  metadata={"description": "only posts created before this time"})


class SimilarityQuery(PostFilterQuery):
    algorithm = fields.String(load_default=DEFAULT_ALGORITHM, validate=validate.OneOf(ALGORITHMS))
    q = fields.Integer(load_default=10, validate=validate.Range(min=1, max=100),
                       metadata={"description": "how many pictures: always the nearest q (fewer only when the "
                                                "archive holds fewer, or max_distance filters them out)"})
    max_distance = fields.Float(allow_none=True, load_default=None, validate=validate.Range(min=0, max=1e9),
                                metadata={"description": "optional filter: no picture farther than this"})
    posts_limit = fields.Integer(load_default=20, validate=validate.Range(min=1, max=MAX_LIMIT),
                                 metadata={"description": "posts listed per picture; page the rest with "
                                                          "/api/similarity/posts"})


class SimilarityUrlSchema(SimilarityQuery):
    url = fields.String(required=True, validate=validate.Length(min=1, max=4096))


class PostSchema(Base):
    image_id = fields.Integer(required=True)
    url = fields.String(metadata={"description": "the image's URL in that post"})
    submission_id = fields.String()
    post = fields.String(metadata={"description": "https://redd.it/<id>"})
    subreddit = fields.String()
    title = fields.String()
    author = fields.String(allow_none=True)
    created = fields.DateTime()
    nsfw = fields.Boolean()


class HitSchema(Base):
    id = fields.Integer(required=True, metadata={"description": "the image of the picture's oldest post"})
    url = fields.String()
    post = fields.String(metadata={"description": "https://redd.it/<id> of the oldest post"})
    submission_id = fields.String()
    title = fields.String()
    subreddit = fields.String()
    author = fields.String(allow_none=True)
    created = fields.DateTime()
    nsfw = fields.Boolean()
    tags = fields.List(fields.String())
    sha256 = fields.String(allow_none=True, metadata={"description": "the picture: every image with this sha256"})
    distance = fields.Float()
    score = fields.Float(metadata={"description": "0-100, 100 = identical"})
    confidence = fields.String(validate=validate.OneOf(CONFIDENCES),
                               metadata={"description": "match, likely or weak (thresholds in the README)"})
    mirrored = fields.Boolean()
    posts = fields.List(fields.Nested(PostSchema), metadata={"description": "oldest first"})
    posts_total = fields.Integer(metadata={"description": "posts passing the filters"})
    posts_next = fields.String(allow_none=True, metadata={"description": "cursor for /api/similarity/posts"})


class SimilaritySchema(Base):
    algorithm = fields.String()
    max_distance = fields.Float(allow_none=True)
    hits = fields.List(fields.Nested(HitSchema), required=True)


class SimilarityPostsQuery(PostFilterQuery):
    image = fields.Integer(required=True, validate=validate.Range(min=1, max=2**63 - 1),
                           metadata={"description": "any image of the picture"})
    cursor = fields.String(load_default=None, validate=validate.Length(max=200))
    limit = fields.Integer(load_default=100, validate=validate.Range(min=1, max=MAX_LIMIT))


class SimilarityPostsSchema(Base):
    image = fields.Integer(required=True)
    sha256 = fields.String(allow_none=True)
    total = fields.Integer(required=True)
    posts = fields.List(fields.Nested(PostSchema), required=True)
    next = fields.String(allow_none=True)


# health, stats, keys
class HealthSchema(Base):
    status = fields.String(required=True)
    database = fields.String(required=True)


class StatsSchema(Base):
    links = fields.Dict(keys=fields.String(), values=fields.Integer())
    images = fields.Dict(keys=fields.String(), values=fields.Integer())
    submissions = fields.Integer()
    fingerprints = fields.Integer()
    subreddits = fields.List(fields.Nested(SubredditSchema))


# daemon chapters (counted in /metrics)
DAEMONS = ("greg", "parsa", "coco")
COUNT_NAME = validate.Regexp(r"^[a-z][a-z0-9_]{0,31}$", error="a lower-case name of at most 32 characters")


class ChapterSchema(Base):
    daemon = fields.String(required=True, validate=validate.OneOf(DAEMONS))
    counts = fields.Dict(keys=fields.String(validate=COUNT_NAME),
                         values=fields.Integer(strict=True, validate=validate.Range(min=0, max=2**53)),
                         required=True, validate=validate.Length(max=64),
                         metadata={"description": "what the chapter did: claimed, done, failed, skipped, ..."})
    elapsed = fields.Float(required=True, validate=validate.Range(min=0, max=7 * 24 * 3600),
                           metadata={"description": "seconds the chapter took"})


"""The work queues: links for Parsa, images and fingerprints for Coco."""
from __future__ import annotations

from flask import Response, request
from flask_restful import Resource

from booru.api.archive import EVERYONE
from booru.api.base import body, dump, query, responds
from booru import quota
from booru.auth import requires
from booru.errors import NotFound
from booru.func import images, links
from booru.func.thumbnails import get_thumbnail
from booru.models import LINK_TYPES
from booru.schemas import (ClaimedImageListSchema, ClaimedLinkListSchema, ClaimSchema, DhashBatchSchema,
                           FingerprintBatchSchema, HistogramBatchSchema, ImageBatchSchema, ImageClaimSchema,
                           ImageFailureBatchSchema, ImageLeaseBatchSchema, ImageListQuery, ImageListSchema,
                           ImageSchema, LinkFailureBatchSchema, LinkLeaseBatchSchema, LinkListQuery, LinkListSchema,
                           LinkPostBatchSchema, ReportResultSchema, UpsertResultSchema)


def _link_page(args: dict, link_type: str | None):
    rows, cursor = links.list_links(link_type, args.get("state"), args["limit"], args.get("cursor"))
    return dump(LinkListSchema, {"items": rows, "cursor": cursor})


class LinkList(Resource):
    @requires(*EVERYONE)
    @query(LinkListQuery)
    @responds(LinkListSchema)
    def get(self, args):
        return _link_page(args, None)

    @requires("greg", "parsa")
    @body(LinkPostBatchSchema)
    @responds(UpsertResultSchema, description="links added to known submissions")
    def post(self, body):
        created = links.add_links(body["links"])
        return dump(UpsertResultSchema, {"received": len(body["links"]), "created": created})

    @requires("parsa")
    @body(LinkFailureBatchSchema)
    @responds(ReportResultSchema, description="failures recorded: retried later, or dead/unsupported")
    @responds(None, 409, "a lease is no longer held")
    def put(self, body):
        return dump(ReportResultSchema, {"updated": links.links_failed(body["items"])})

    @requires("parsa")
    @body(LinkLeaseBatchSchema)
    @responds(ReportResultSchema, description="links marked done (kept, never erased)")
    @responds(None, 409, "a lease is no longer held")
    def delete(self, body):
        return dump(ReportResultSchema, {"updated": links.links_done(body["items"])})


class LinksOfType(Resource):
    @requires(*EVERYONE)
    @query(LinkListQuery)
    @responds(LinkListSchema, description="links of one type (`unsupported` for links no resolver handles)")
    def get(self, link_type, args):
        if link_type not in LINK_TYPES + ("unsupported",):
            raise NotFound(f"unknown link type {link_type!r}; one of {', '.join(LINK_TYPES)}, unsupported")
        return _link_page(args, link_type)


class LinkClaim(Resource):
    @requires("parsa")
    @body(ClaimSchema)
    @responds(ClaimedLinkListSchema, description="links leased to the caller")
    def post(self, body):
        items, expires = links.claim_links(body["limit"], body.get("type"))
        return dump(ClaimedLinkListSchema, {"items": items, "lease_expires": expires})


class LinkRelease(Resource):
    @requires("parsa")
    @body(LinkLeaseBatchSchema)
    @responds(ReportResultSchema, description="leased links given back untouched (claimable at once)")
    @responds(None, 409, "a lease is no longer held")
    def post(self, body):
        return dump(ReportResultSchema, {"updated": links.release_links(body["items"])})


class ImageList(Resource):
    @requires(*EVERYONE)
    @query(ImageListQuery)
    @responds(ImageListSchema, description="newest first; without `state`, the archive (encoded images)")
    def get(self, args):
        items, cursor = images.list_images(args)
        return {"items": items, "cursor": cursor}, 200  # already in ImageListSchema's shape: the hot path

    @requires("parsa")
    @body(ImageBatchSchema)
    @responds(UpsertResultSchema, description="idempotent upsert on (submission, url)")
    def post(self, body):
        return dump(UpsertResultSchema, images.post_images(body["images"]))

    @requires("coco")
    @body(ImageFailureBatchSchema)
    @responds(ReportResultSchema, description="failures recorded: retried later, or failed for good")
    @responds(None, 409, "a lease is no longer held")
    def put(self, body):
        return dump(ReportResultSchema, {"updated": images.images_failed(body["items"])})

    @requires("coco")
    @body(ImageFailureBatchSchema)
    @responds(ReportResultSchema, description="images marked failed for good (kept, never erased)")
    @responds(None, 409, "a lease is no longer held")
    def delete(self, body):
        return dump(ReportResultSchema, {"updated": images.images_failed(body["items"], permanent=True)})


class ImageItem(Resource):
    @requires(*EVERYONE)
    @responds(ImageSchema)
    def get(self, image_id):
        return dump(ImageSchema, images.get_image(image_id))


def thumbnail_response(image_id: int) -> Response | None:
    """The image's thumbnail as a JPEG answer (304 when If-None-Match has its ETag), None if it has none."""
    found = get_thumbnail(image_id)
    if found is None:
        return None
    data, etag = found
    headers = {"ETag": f'"{etag}"', "Cache-Control": "private, max-age=86400"}
    if f'"{etag}"' in request.headers.get("If-None-Match", ""):
        return Response(status=304, headers=headers)
    return Response(data, status=200, headers=headers, mimetype="image/jpeg")


class ImageThumbnail(Resource):
    @requires(*EVERYONE, cost=quota.THUMBNAIL)
    @responds(None, 200, "the image's thumbnail (image/jpeg); 304 when If-None-Match has its ETag")
    def get(self, image_id):
        """The small JPEG Coco made of the image (or of another image of the same file)."""
        response = thumbnail_response(image_id)
        if response is None:
            raise NotFound(f"no thumbnail of image {image_id}")
        return response


class ImageClaim(Resource):
    @requires("coco")
    @body(ImageClaimSchema)
    @responds(ClaimedImageListSchema, description="images leased to the caller")
    def post(self, body):
        items, expires = images.claim_images(body["limit"])
        return dump(ClaimedImageListSchema, {"items": items, "lease_expires": expires})


class ImageRelease(Resource):
    @requires("coco")
    @body(ImageLeaseBatchSchema)
    @responds(ReportResultSchema, description="leased images given back untouched (claimable at once)")
    @responds(None, 409, "a lease is no longer held")
    def post(self, body):
        return dump(ReportResultSchema, {"updated": images.release_images(body["items"])})


class Fingerprints(Resource):
    @requires("coco")
    @body(FingerprintBatchSchema)
    @responds(ReportResultSchema, description="fingerprints stored, images encoded")
    @responds(None, 409, "a lease is no longer held")
    def post(self, body):
        return dump(ReportResultSchema, images.record_fingerprints(body["items"]))


class Histograms(Resource):
    @requires("coco")
    @body(HistogramBatchSchema)
    @responds(ReportResultSchema, description="the seed's bulk histogram upload")
    def post(self, body):
        return dump(ReportResultSchema, images.post_encodings("histogram", body["items"]))


class Dhashes(Resource):
    @requires("coco")
    @body(DhashBatchSchema)
    @responds(ReportResultSchema, description="the seed's bulk dhash upload")
    def post(self, body):
        return dump(ReportResultSchema, images.post_encodings("dhash", body["items"]))

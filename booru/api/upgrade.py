"""Background re-fingerprinting for Coco: /api/image/upgrade (booru.func.upgrade)."""
from __future__ import annotations

from flask_restful import Resource

from booru.api.base import body, dump, responds
from booru.auth import requires
from booru.func import upgrade
from booru.schemas import (ClaimedUpgradeListSchema, ImageFailureBatchSchema, ImageLeaseBatchSchema,
                           ReportResultSchema, UpgradeBatchSchema, UpgradeClaimSchema)


class UpgradeClaim(Resource):
    @requires("coco")
    @body(UpgradeClaimSchema)
    @responds(ClaimedUpgradeListSchema, description="encoded images below `version`, leased for re-fingerprinting")
    def post(self, body):
        return dump(ClaimedUpgradeListSchema, {"items": upgrade.claim_upgrades(body["limit"], body["version"])})


class UpgradeRelease(Resource):
    @requires("coco")
    @body(ImageLeaseBatchSchema)
    @responds(ReportResultSchema, description="upgrade leases given back untouched")
    @responds(None, 409, "a lease is no longer held")
    def post(self, body):
        return dump(ReportResultSchema, {"updated": upgrade.release_upgrades(body["items"])})


class Upgrades(Resource):
    @requires("coco")
    @body(UpgradeBatchSchema)
    @responds(ReportResultSchema, description="new fingerprints stored, replacing the old ones")
    @responds(None, 409, "a lease is no longer held")
    def post(self, body):
        return dump(ReportResultSchema, upgrade.record_upgrades(body["items"]))

    @requires("coco")
    @body(ImageFailureBatchSchema)
    @responds(ReportResultSchema, description="images that could not be re-fingerprinted")
    @responds(None, 409, "a lease is no longer held")
    def put(self, body):
        return dump(ReportResultSchema, {"updated": upgrade.upgrades_failed(body["items"])})
